export interface Part {
  text: string;
  /** UTF-16 offset of `text` in the content. */
  start: number;
  hit: boolean;
}

/**
 * A result's content cut into plain and highlighted parts, from the server's UTF-16 ranges.
 * Ranges out of bounds, overlapping or out of order are clamped and merged, so the parts
 * always spell the content exactly.
 */
export function highlightedParts(content: string, highlights: readonly { start: number; end: number }[]): Part[] {
  const ranges = highlights
    .map(({ start, end }) => ({ start: clamp(start, content.length), end: clamp(end, content.length) }))
    .filter((range) => range.end > range.start)
    .sort((a, b) => a.start - b.start);
  const parts: Part[] = [];
  let at = 0;
  for (const range of ranges) {
    const start = Math.max(range.start, at);
    if (range.end <= start) continue;
    if (start > at) parts.push({ text: content.slice(at, start), start: at, hit: false });
    const previous = parts.at(-1);
    // Touching or overlapping ranges make one highlight.
    if (previous?.hit && previous.start + previous.text.length === start)
      previous.text += content.slice(start, range.end);
    else parts.push({ text: content.slice(start, range.end), start, hit: true });
    at = range.end;
  }
  if (at < content.length) parts.push({ text: content.slice(at), start: at, hit: false });
  return parts;
}

const clamp = (value: number, max: number) => Math.min(Math.max(0, Math.trunc(value)), max);
