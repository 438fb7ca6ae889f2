import { useState } from "react";
import { useLocale } from "../i18n/i18n.ts";
import { useSessionToken } from "./session-token.ts";

const FORMATS = ["html", "csv", "jsonl"] as const;
type Format = (typeof FORMATS)[number];

/**
 * "Export": the whole conversation as a printable page (save it as PDF from the browser), CSV or
 * JSON lines, each a transcript the server signs. Fetched with the token, saved as a file.
 */
export function ExportMenu({ conversationId }: { conversationId: string }) {
  const token = useSessionToken();
  const { t } = useLocale();
  const [format, setFormat] = useState<Format>("html");
  const [state, setState] = useState<"idle" | "working" | "failed">("idle");

  async function download() {
    if (!token) return;
    setState("working");
    try {
      const response = await fetch(`/export/conversations/${encodeURIComponent(conversationId)}?format=${format}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!response.ok) throw new Error(`export answered ${response.status}`);
      const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1];
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = name ?? `naafe-conversation.${format}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setState("idle");
    } catch {
      setState("failed");
    }
  }

  return (
    <div className="export-menu">
      <label>
        <span className="visually-hidden">{t("export.format")}</span>
        <select value={format} onChange={(event) => setFormat(event.target.value as Format)}>
          {FORMATS.map((option) => (
            <option key={option} value={option}>
              {t(`export.formats.${option}`)}
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="button subtle" onClick={download} disabled={state === "working" || !token}>
        {state === "working" ? t("export.working") : t("export.action")}
      </button>
      {state === "failed" && (
        <span className="error small" role="alert">
          {t("export.failed")}
        </span>
      )}
    </div>
  );
}
