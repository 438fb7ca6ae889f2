/**
 * Digit groups joined by spaces, dashes, dots or slashes, with an optional leading "+": phone
 * numbers, dates, card numbers. In right-to-left text the bidi algorithm lays such groups out
 * right to left ("0100 123 4567" would show as "4567 123 0100"); isolated left to right, they
 * read as written. Arabic-Indic digits count too.
 */
const DIGIT_GROUPS = /\+?[0-9\u0660-\u0669\u06F0-\u06F9]+(?:[ \-./][0-9\u0660-\u0669\u06F0-\u06F9]+)+/g;

export type TextPart = { text: string; digits: boolean };

export function splitDigitGroups(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(DIGIT_GROUPS)) {
    if (match.index > last) parts.push({ text: text.slice(last, match.index), digits: false });
    parts.push({ text: match[0], digits: true });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), digits: false });
  return parts;
}

/** A message's text as typed (text nodes only, never markup), with digit groups kept left to right. */
export function MessageText({ content }: { content: string }) {
  return splitDigitGroups(content).map((part, index) =>
    part.digits ? (
      // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one text never reorder.
      <bdi key={index} dir="ltr">
        {part.text}
      </bdi>
    ) : (
      part.text
    ),
  );
}
