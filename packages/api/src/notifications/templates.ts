/** One unread conversation in a digest. */
export interface DigestEntry {
  /** Who wrote (the other participant's name). */
  from: string;
  unreadCount: number;
  /** The last message as the reader may see it (contact details masked). */
  lastMessage: string;
  url: string;
}

export interface Digest {
  recipientName: string | null;
  entries: DigestEntry[];
  settingsUrl: string;
  unsubscribeUrl: string;
}

const PREVIEW_LENGTH = 200;

/**
 * The digest email, from one description rendered twice: plain text, and HTML with every
 * piece of user text escaped.
 */
export function renderDigest(digest: Digest): { subject: string; text: string; html: string } {
  const total = digest.entries.reduce((sum, entry) => sum + entry.unreadCount, 0);
  const conversations = digest.entries.length;
  const subject =
    conversations === 1
      ? `${plural(total, "unread message")} from ${oneLine(digest.entries[0]?.from ?? "")}`
      : `${plural(total, "unread message")} in ${conversations} conversations`;
  const greeting = digest.recipientName ? `Hello ${oneLine(digest.recipientName)},` : "Hello,";
  const intro = "You have messages waiting on Naafe:";
  const lines = digest.entries.map((entry) => ({
    heading: `${oneLine(entry.from)} (${plural(entry.unreadCount, "unread message")})`,
    preview: preview(entry.lastMessage),
    url: entry.url,
  }));
  const footer = "You get this email because you had unread messages for a while.";

  const text = [
    greeting,
    "",
    intro,
    "",
    ...lines.flatMap((line) => [line.heading, `  “${line.preview}”`, `  ${line.url}`, ""]),
    footer,
    `Notification settings: ${digest.settingsUrl}`,
    `Stop these emails: ${digest.unsubscribeUrl}`,
    "",
  ].join("\n");

  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.4">
<p>${escapeHtml(greeting)}</p>
<p>${escapeHtml(intro)}</p>
<ul>
${lines
  .map(
    (line) =>
      `<li><p><strong>${escapeHtml(line.heading)}</strong><br>“${escapeHtml(line.preview)}”<br><a href="${escapeHtml(line.url)}">Open the conversation</a></p></li>`,
  )
  .join("\n")}
</ul>
<p style="color: #666; font-size: 0.9em">${escapeHtml(footer)}<br>
<a href="${escapeHtml(digest.settingsUrl)}">Notification settings</a> · <a href="${escapeHtml(digest.unsubscribeUrl)}">Stop these emails</a></p>
</body></html>
`;
  return { subject: oneLine(subject), text, html };
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

/** Header-safe and list-safe: one line, no control characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
const oneLine = (text: string) => text.replace(/[\u0000-\u001F\u007F-\u009F]+/g, " ").trim();

function preview(text: string) {
  const line = oneLine(text);
  const chars = [...line];
  return chars.length > PREVIEW_LENGTH ? `${chars.slice(0, PREVIEW_LENGTH).join("")}…` : line;
}
