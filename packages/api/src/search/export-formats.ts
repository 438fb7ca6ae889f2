import type { TranscriptEnd, TranscriptHeader, TranscriptMessage } from "@naafe/transcript";

/**
 * CSV and HTML renderings of a transcript, line by line. Both show each message's link in the
 * hash chain and the signed end, so they can be compared with a JSONL export; the JSONL file is
 * the one `verify-transcript` checks.
 */

const CSV_COLUMNS = [
  "seq",
  "timestamp",
  "senderId",
  "senderName",
  "receiverId",
  "content",
  "readAt",
  "messageId",
  "hash",
];

// A cell a spreadsheet would run as a formula gets a leading apostrophe.
const FORMULA_START = /^[=+\-@\t\r]/;

function csvCell(value: string | number | null): string {
  let text = value === null ? "" : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

const csvRow = (cells: (string | number | null)[]) => `${cells.map(csvCell).join(",")}\r\n`;

/** With a byte order mark: spreadsheets then read the Arabic as UTF-8. */
export const csvHeader = () => `\uFEFF${csvRow(CSV_COLUMNS)}`;

export function csvMessage(message: TranscriptMessage, names: Map<string, string | null>) {
  const { seq, timestamp, senderId, receiverId, content, readAt, messageId, hash } = message;
  return csvRow([seq, timestamp, senderId, names.get(senderId) ?? null, receiverId, content, readAt, messageId, hash]);
}

/** The signed end as a last row: seq "end", the count, and head and signature in place of content and hash. */
export const csvEnd = (end: TranscriptEnd) =>
  csvRow([
    "end",
    null,
    null,
    null,
    null,
    `${end.messageCount} messages; signature ${end.signature}`,
    null,
    null,
    end.head,
  ]);

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);

const STYLE = `
body { font: 15px/1.5 system-ui, "Segoe UI", Tahoma, "Noto Naskh Arabic", sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; color: #111; }
header.transcript { border-bottom: 1px solid #ccc; margin-bottom: 1rem; }
article { margin: 0 0 .75rem; padding: .5rem .75rem; border: 1px solid #ddd; border-radius: .5rem; break-inside: avoid; }
article.seeker { background: #f4f8ff; }
article .meta { font-size: 12px; color: #555; }
article p { margin: .25rem 0 0; white-space: pre-wrap; unicode-bidi: plaintext; overflow-wrap: anywhere; }
footer { margin-top: 2rem; font-size: 11px; color: #555; overflow-wrap: anywhere; }
code { font-size: 11px; }
@media print { body { margin: 0; max-width: none; } article { border-color: #999; } }`;

export function htmlStart(header: TranscriptHeader, title: string) {
  const people = header.participants
    .map(
      (person) =>
        `<li><bdi>${escapeHtml(person.name ?? person.id)}</bdi> (${person.role}, <code>${escapeHtml(person.id)}</code>)</li>`,
    )
    .join("");
  return `<!doctype html>
<html dir="auto">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="transcript">
<h1 dir="auto">${escapeHtml(title)}</h1>
<p>Conversation <code>${escapeHtml(header.conversationId)}</code>, exported ${escapeHtml(header.exportedAt)} (UTC).</p>
<ul>${people}</ul>
</header>
<main>
`;
}

export function htmlMessage(
  message: TranscriptMessage,
  people: Map<string, { name: string | null; role: string }>,
): string {
  const sender = people.get(message.senderId);
  const read = message.readAt ? ` · read ${escapeHtml(message.readAt)}` : "";
  return `<article class="${sender?.role ?? ""}" id="m${message.seq}">
<div class="meta">#${message.seq} · <bdi>${escapeHtml(sender?.name ?? message.senderId)}</bdi> · <time datetime="${escapeHtml(message.timestamp)}">${escapeHtml(message.timestamp)}</time>${read}</div>
<p dir="auto">${escapeHtml(message.content)}</p>
</article>
`;
}

export const htmlEnd = (end: TranscriptEnd, publicKeyPem: string) => `</main>
<footer>
<p>${end.messageCount} messages. Hash chain head <code>${end.head}</code>; Ed25519 signature <code>${escapeHtml(end.signature)}</code>.</p>
<p>To verify, export this conversation as JSONL and run <code>pnpm verify-transcript FILE</code>. Server key:</p>
<pre>${escapeHtml(publicKeyPem)}</pre>
</footer>
</body>
</html>
`;
