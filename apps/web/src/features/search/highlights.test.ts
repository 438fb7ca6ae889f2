import { describe, expect, it } from "vitest";
import { highlightedParts } from "./highlights.ts";

const spelled = (content: string, ranges: { start: number; end: number }[]) =>
  highlightedParts(content, ranges).map((part) => (part.hit ? `[${part.text}]` : part.text));

describe("highlightedParts", () => {
  it("cuts the content at the server's UTF-16 ranges", () => {
    expect(spelled("السعر 350 EGP", [{ start: 6, end: 9 }])).toEqual(["السعر ", "[350]", " EGP"]);
    expect(
      spelled("😀 tap tap", [
        { start: 3, end: 6 },
        { start: 7, end: 10 },
      ]),
    ).toEqual(["😀 ", "[tap]", " ", "[tap]"]);
  });

  it("merges overlapping, unordered and out-of-bounds ranges, and always spells the content", () => {
    const content = "fix the kitchen tap";
    const ranges = [
      { start: 12, end: 40 },
      { start: -5, end: 3 },
      { start: 8, end: 15 },
      { start: 2, end: 1 },
    ];
    expect(spelled(content, ranges)).toEqual(["[fix]", " the ", "[kitchen tap]"]);
    expect(
      highlightedParts(content, ranges)
        .map((part) => part.text)
        .join(""),
    ).toBe(content);
    expect(spelled(content, [])).toEqual([content]);
  });
});
