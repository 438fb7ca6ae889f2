import { describe, expect, it } from "vitest";
import { splitDigitGroups } from "./message-text.tsx";

describe("splitDigitGroups", () => {
  it("finds phone numbers and dates, in Latin or Arabic-Indic digits, and leaves the rest", () => {
    expect(splitDigitGroups("اتصل على 0100 123 4567 أو +20-100-555 قبل 12/5")).toEqual([
      { text: "اتصل على ", digits: false },
      { text: "0100 123 4567", digits: true },
      { text: " أو ", digits: false },
      { text: "+20-100-555", digits: true },
      { text: " قبل ", digits: false },
      { text: "12/5", digits: true },
    ]);
    expect(splitDigitGroups("٠١٠٠ ١٢٣ ٤٥٦٧")).toEqual([{ text: "٠١٠٠ ١٢٣ ٤٥٦٧", digits: true }]);
  });

  it("leaves a lone number, and text without digits, as one part", () => {
    expect(splitDigitGroups("السعر 350 EGP")).toEqual([{ text: "السعر 350 EGP", digits: false }]);
    expect(splitDigitGroups("")).toEqual([]);
    expect(splitDigitGroups("\u202E\u202E")).toEqual([{ text: "\u202E\u202E", digits: false }]);
  });
});
