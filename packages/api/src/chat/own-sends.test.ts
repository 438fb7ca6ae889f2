import { describe, expect, it } from "vitest";
import { OwnSends } from "./own-sends.ts";

describe("OwnSends", () => {
  it("records sends only to conversations a subscription watches, and only while it does", () => {
    const sends = new OwnSends();
    sends.record("c1", "m1");
    const unwatch = sends.watch("c1");
    sends.record("c1", "m2");
    sends.record("c2", "m3");
    unwatch();
    sends.record("c1", "m4");
    expect(["m1", "m2", "m3", "m4"].map((id) => sends.has(id))).toEqual([false, true, false, false]);
  });

  it("keeps watching while a second subscription to the same conversation is open", () => {
    const sends = new OwnSends();
    const first = sends.watch("c1");
    const second = sends.watch("c1");
    first();
    first(); // ending twice (its generator's end and its abort) counts once
    sends.record("c1", "m1");
    second();
    sends.record("c1", "m2");
    expect([sends.has("m1"), sends.has("m2")]).toEqual([true, false]);
  });

  it("forgets the oldest sends beyond the latest 256", () => {
    const sends = new OwnSends();
    sends.watch("c1");
    for (let i = 0; i < 300; i++) sends.record("c1", `m${i}`);
    expect([sends.has("m0"), sends.has("m43"), sends.has("m44"), sends.has("m299")]).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });
});
