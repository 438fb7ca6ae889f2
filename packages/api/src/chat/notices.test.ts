import { describe, expect, it } from "vitest";
import { type Notice, notices, readNotice } from "./notices.ts";

describe("readNotice", () => {
  it("recognises every notice the server writes, with what it names", () => {
    const cases: [string, Notice][] = [
      [notices.offerAccepted("350"), { kind: "offerAccepted", price: "350" }],
      [notices.offerAccepted("1250.5"), { kind: "offerAccepted", price: "1250.5" }],
      [notices.offerAccepted(null), { kind: "offerAccepted", price: null }],
      [notices.closedByNaafe, { kind: "closedByNaafe" }],
      [notices.reopenedByNaafe, { kind: "reopenedByNaafe" }],
      [notices.reviewedByNaafe, { kind: "reviewedByNaafe" }],
      [notices.closed, { kind: "closed" }],
      [notices.reopened, { kind: "reopened" }],
      [notices.jobClosed("completed"), { kind: "jobClosed", status: "completed" }],
      [notices.jobClosed("cancelled"), { kind: "jobClosed", status: "cancelled" }],
      [
        notices.contactShared("Omar Fix", "+20 100 123 4567", "omar@example.com"),
        { kind: "contactShared", name: "Omar Fix", phone: "+20 100 123 4567", email: "omar@example.com" },
      ],
      [
        notices.contactShared(null, null, "s@example.com"),
        { kind: "contactShared", name: null, phone: null, email: "s@example.com" },
      ],
      [
        notices.contactShared("Sara", "0100", null),
        { kind: "contactShared", name: "Sara", phone: "0100", email: null },
      ],
    ];
    for (const [content, notice] of cases) expect(readNotice(content), content).toEqual(notice);
  });

  it("leaves any other text alone", () => {
    for (const content of [
      "Offer accepted!",
      "Offer accepted: cheap EGP",
      "This conversation was closed by Naafe. Really?",
      "This job was marked done; the conversation is now read-only.",
      "I shared their contact details.\nPhone:",
      "hello",
    ])
      expect(readNotice(content), content).toBeNull();
  });
});
