import { describe, expect, it } from "vitest";
import { describePresence } from "./presence.ts";

const now = new Date(Date.UTC(2026, 2, 10, 12, 0));
const ago = (ms: number) => new Date(now.getTime() - ms);
const MINUTE = 60_000;

describe("describePresence", () => {
  it("says online, or offline for someone never seen", () => {
    expect(describePresence({ online: true, lastSeen: null }, now, "en-GB")).toBe("online");
    expect(describePresence({ online: false, lastSeen: null }, now, "en-GB")).toBe("offline");
  });

  it("says when someone offline was last seen, relative to now", () => {
    const lastSeen = (ms: number) => describePresence({ online: false, lastSeen: ago(ms) }, now, "en-GB");
    expect(lastSeen(10_000)).toBe("last seen just now");
    // A clock a little behind the server's is still "just now", never "in 2 seconds".
    expect(lastSeen(-2_000)).toBe("last seen just now");
    expect(lastSeen(MINUTE)).toBe("last seen 1 minute ago");
    expect(lastSeen(59 * MINUTE)).toBe("last seen 59 minutes ago");
    expect(lastSeen(3 * 60 * MINUTE)).toBe("last seen 3 hours ago");
    expect(lastSeen(30 * 60 * MINUTE)).toBe("last seen yesterday");
    expect(lastSeen(4 * 24 * 60 * MINUTE)).toBe("last seen 4 days ago");
    expect(lastSeen(40 * 24 * 60 * MINUTE)).toBe("last seen on 29 Jan 2026");
  });
});
