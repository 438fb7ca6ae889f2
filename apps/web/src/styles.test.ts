import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const css = readFileSync(new URL("./styles.css", import.meta.url), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");

/** Each `property: value` declaration with its line number. */
function declarations(source: string) {
  const found: { line: number; property: string; value: string }[] = [];
  source.split("\n").forEach((text, index) => {
    const match = /^\s*([a-z-]+)\s*:\s*([^;{]+);/.exec(text);
    if (match?.[1] && match[2]) found.push({ line: index + 1, property: match[1], value: match[2].trim() });
  });
  return found;
}

/**
 * Physical left/right would stay put when the page turns right-to-left: the app's CSS says
 * start/end (`margin-inline-start`, `inset-inline-end`, `text-align: start`) instead.
 */
function physicalDirection({ property, value }: { property: string; value: string }): boolean {
  if (/(^|-)(left|right)(-|$)/.test(property)) return true;
  if (/^(text-align|float|clear|caption-side|justify-self|justify-items|resize)$/.test(property))
    return /\b(left|right)\b/.test(value);
  if (/^(transform|translate)$/.test(property) && /translateX/.test(value)) return true;
  // Four-value shorthands with different right and left sides.
  if (/^(margin|padding|inset|border-width|border-radius|scroll-margin|scroll-padding)$/.test(property)) {
    const parts = value.split(/\s+/);
    return parts.length === 4 && parts[1] !== parts[3];
  }
  return false;
}

describe("styles.css", () => {
  it("uses logical properties only, so right-to-left mirrors the layout", () => {
    const offenders = declarations(css).filter(physicalDirection);
    expect(offenders.map(({ line, property, value }) => `${line}: ${property}: ${value}`)).toEqual([]);
  });

  it("the check catches what it is meant to", () => {
    const sample = `a {\n  margin-left: 4px;\n  border-top-right-radius: 2px;\n  right: 0;\n  text-align: left;\n  padding: 1px 2px 3px 4px;\n  margin-inline-start: 4px;\n  text-align: start;\n  padding: 1px 2px 3px 2px;\n}`;
    expect(
      declarations(sample)
        .filter(physicalDirection)
        .map((d) => d.property),
    ).toEqual(["margin-left", "border-top-right-radius", "right", "text-align", "padding"]);
  });
});
