import { openTestDatabase, prepareTestDatabases, testBackends } from "@naafe/db/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { highlightRanges, normalizeForSearch, searchTerms } from "./normalize-arabic.ts";

beforeAll(prepareTestDatabases);

const samples = [
  "أحمد إلى آخر ٱلمدينة",
  "مدرسة مستشفى",
  "السِّعْرُ ٣٥٠ ريـــال",
  "Persian digits ۱۲۳ and Arabic ٠١٢٣٤٥٦٧٨٩",
  "Hello WORLD, Price: 350SAR",
  "\u202Eevil\u202C \u2066isolated\u2069 zero\u200Bwidth \uFEFFbom",
  "mixed أهلاً Ahmed, السعر 350",
  "emoji 😀 and e\u0301",
  // Every mark dropped, between letters.
  `a${Array.from({ length: 0x65f - 0x64b + 1 }, (_, n) => String.fromCharCode(0x64b + n)).join("")}b\u0670\u0640c`,
  "d\u200B\u200C\u200D\u200E\u200Fe\u202A\u202B\u202C\u202D\u202Ef\u2066\u2067\u2068\u2069g\uFEFFh",
];

describe("normalizeForSearch", () => {
  it("maps alef variants, ta marbuta, alef maqsura and digits; drops tashkeel, tatweel and direction marks", () => {
    expect(normalizeForSearch("أإآٱ")).toBe("اااا");
    expect(normalizeForSearch("مدرسة")).toBe("مدرسه");
    expect(normalizeForSearch("إلى")).toBe("الي");
    expect(normalizeForSearch("٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹")).toBe("0123456789 0123456789");
    expect(normalizeForSearch("السِّعْرُ ريـــال")).toBe("السعر ريال");
    expect(normalizeForSearch("\u202Eab\u202C\u200Bc")).toBe("abc");
    expect(normalizeForSearch("Price")).toBe("price");
  });

  it.each(testBackends)("equals the SQL function naafe_search_normalize on %s", async (backend) => {
    await using db = await openTestDatabase(backend);
    for (const sample of samples) {
      const [row] = await db.prisma.$queryRawUnsafe<{ normalized: string }[]>(
        "SELECT naafe_search_normalize($1) AS normalized",
        sample,
      );
      expect(row?.normalized, sample).toBe(normalizeForSearch(sample));
    }
  });

  it.each(testBackends)(
    "naafe_search_vector is the three configurations' words of the normalised text on %s",
    async (backend) => {
      await using db = await openTestDatabase(backend);
      for (const sample of samples) {
        const [row] = await db.prisma.$queryRawUnsafe<{ same: boolean }[]>(
          `SELECT naafe_search_vector($1) = to_tsvector('simple', naafe_search_normalize($1))
           || to_tsvector('arabic', naafe_search_normalize($1)) || to_tsvector('english', naafe_search_normalize($1)) AS same`,
          sample,
        );
        expect(row?.same, sample).toBe(true);
      }
    },
  );
});

describe("searchTerms", () => {
  it("keeps letters and digits only, normalised, without repeats", () => {
    expect(searchTerms("Price & (350) | !tax:* 'it''s")).toEqual(["price", "350", "tax", "it", "s"]);
    expect(searchTerms("أهلاً أهلا")).toEqual(["اهلا"]);
    expect(searchTerms("& | ! : * ( ) '")).toEqual([]);
  });
});

describe("highlightRanges", () => {
  it("gives UTF-16 ranges of the original text, tashkeel and tatweel inside a match included", () => {
    const content = "😀 السِّعْرُ ريـــال";
    const ranges = highlightRanges(content, searchTerms("السعر ريال"));
    expect(ranges.map(({ start, end }) => content.slice(start, end))).toEqual(["السِّعْرُ", "ريـــال"]);
  });

  it("highlights a word found by its stem by its longest prefix that occurs", () => {
    const content = "The price is fair";
    expect(highlightRanges(content, ["prices"]).map(({ start, end }) => content.slice(start, end))).toEqual(["price"]);
    expect(highlightRanges("pr", ["prices"])).toEqual([]);
  });

  it("merges overlapping matches and is empty when nothing matches", () => {
    expect(highlightRanges("paintings", ["paint", "painting"])).toEqual([{ start: 0, end: 8 }]);
    expect(highlightRanges("nothing", ["else"])).toEqual([]);
  });
});
