import { readNotice } from "@naafe/api/notices";
import type { TFunction } from "i18next";

/** A notice from Naafe (stored in English) in the reader's language; any other text as it is. */
export function noticeText(content: string, t: TFunction): string {
  const notice = readNotice(content);
  if (!notice) return content;
  switch (notice.kind) {
    case "offerAccepted":
      return notice.price === null
        ? t("notices.offerAccepted")
        : t("notices.offerAcceptedPrice", { price: Number(notice.price) });
    case "jobClosed":
      return t(notice.status === "completed" ? "notices.jobCompleted" : "notices.jobCancelled");
    case "contactShared":
      return [
        notice.name === null ? t("notices.contactSharedSomeone") : t("notices.contactShared", { name: notice.name }),
        ...(notice.phone ? [t("notices.phone", { phone: notice.phone })] : []),
        ...(notice.email ? [t("notices.email", { email: notice.email })] : []),
      ].join("\n");
    default:
      return t(`notices.${notice.kind}`);
  }
}
