// @vitest-environment happy-dom
import { notices } from "@naafe/api/notices";
import { afterEach, describe, expect, it } from "vitest";
import { chooseLanguage, i18n } from "../i18n/i18n.ts";
import { noticeText } from "./notice-text.ts";

afterEach(() => chooseLanguage(null));

/** Every notice the server writes, as it stores them (English). */
const all = [
  notices.offerAccepted("350"),
  notices.offerAccepted(null),
  notices.closedByNaafe,
  notices.reopenedByNaafe,
  notices.reviewedByNaafe,
  notices.closed,
  notices.reopened,
  notices.jobClosed("completed"),
  notices.jobClosed("cancelled"),
  notices.contactShared("Omar", "+20 100 123 4567", "omar@example.com"),
  notices.contactShared(null, "0100 123 4567", null),
];

describe("noticeText", () => {
  it("reads each notice in English exactly as the server wrote it", () => {
    chooseLanguage("en");
    const t = i18n.getFixedT("en");
    for (const content of all) expect(noticeText(content, t)).toBe(content);
  });

  it("shows each notice in Arabic, keeping the price, names and contact details", () => {
    chooseLanguage("ar");
    const t = i18n.getFixedT("ar");
    const shown = all.map((content) => noticeText(content, t));
    for (const [index, text] of shown.entries()) {
      expect(text, all[index]).not.toMatch(/Offer|conversation|job|shared|Phone|Email/);
      expect(text).toMatch(/[\u0600-\u06FF]/);
    }
    expect(shown[0]).toMatch(/تم قبول العرض: (350|٣٥٠) جنيه/);
    expect(shown[9]).toContain("Omar");
    expect(shown[9]).toContain("+20 100 123 4567");
    expect(shown[9]).toContain("omar@example.com");
  });

  it("leaves people's own text alone", () => {
    const t = i18n.getFixedT("ar");
    expect(noticeText("Offer accepted, see you tomorrow", t)).toBe("Offer accepted, see you tomorrow");
  });
});
