// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { dismissPrompt, noteMessageSent } from "./prompt-session.ts";
import {
  activeMutes,
  base64UrlToBytes,
  deviceState,
  muteUntil,
  nextEnd,
  shouldOffer,
  subscriptionInput,
} from "./push-device.ts";

describe("deviceState", () => {
  const facts = {
    supported: true,
    serverKey: "key",
    permission: "default" as NotificationPermission,
    subscribed: false,
  };

  it("says why push cannot work before whether it is on", () => {
    expect(deviceState({ ...facts, supported: false, subscribed: true })).toBe("unsupported");
    expect(deviceState({ ...facts, serverKey: null })).toBe("unavailable");
    expect(deviceState({ ...facts, permission: "denied", subscribed: true })).toBe("blocked");
  });

  it("is on only with a subscription the browser still allows", () => {
    expect(deviceState({ ...facts, permission: "granted", subscribed: true })).toBe("on");
    expect(deviceState({ ...facts, permission: "default", subscribed: true })).toBe("off");
    expect(deviceState({ ...facts, permission: "granted", subscribed: false })).toBe("off");
  });
});

describe("shouldOffer", () => {
  const facts = { acted: true, dismissed: false, pushOn: true, state: "off" as const };

  it("offers after an action, while push could be switched on here", () => {
    expect(shouldOffer(facts)).toBe(true);
    expect(shouldOffer({ ...facts, acted: false })).toBe(false);
    expect(shouldOffer({ ...facts, dismissed: true })).toBe(false);
    expect(shouldOffer({ ...facts, pushOn: false })).toBe(false);
    for (const state of ["on", "blocked", "unsupported", "unavailable"] as const) {
      expect(shouldOffer({ ...facts, state })).toBe(false);
    }
  });
});

describe("base64UrlToBytes", () => {
  it("decodes base64url with and without padding", () => {
    const bytes = Uint8Array.from([0xfb, 0xff, 0xfe, 0x00, 0x41]);
    const encoded = btoa(String.fromCharCode(...bytes));
    const url = encoded.replace(/\+/g, "-").replace(/\//g, "_");
    expect(url).toMatch(/[-_]/);
    expect([...base64UrlToBytes(url)]).toEqual([...bytes]);
    expect([...base64UrlToBytes(url.replace(/=+$/, ""))]).toEqual([...bytes]);
  });

  it("gives a VAPID public key's 65 bytes", () => {
    const key = `B${"A".repeat(86)}`;
    expect(base64UrlToBytes(key)).toHaveLength(65);
  });
});

describe("subscriptionInput", () => {
  it("keeps what registerPush takes, and refuses an incomplete subscription", () => {
    const json = { endpoint: "https://push.example/abc", expirationTime: null, keys: { p256dh: "p", auth: "a" } };
    expect(subscriptionInput(json)).toEqual(json);
    expect(subscriptionInput({ endpoint: "https://push.example/abc", keys: { p256dh: "p" } })).toBeNull();
    expect(subscriptionInput({ keys: { p256dh: "p", auth: "a" } })).toBeNull();
  });
});

describe("mutes", () => {
  const now = new Date("2026-12-04T12:00:00Z");

  it("mutes for 8 hours, or with no end", () => {
    expect(muteUntil("8h", now)).toEqual(new Date("2026-12-04T20:00:00Z"));
    expect(muteUntil("forever", now)).toBeUndefined();
  });

  it("lists the mutes that have not ended", () => {
    const active = activeMutes(
      [
        { conversationId: "forever", until: null },
        { conversationId: "later", until: new Date("2026-12-04T13:00:00Z") },
        { conversationId: "ended", until: now },
      ],
      now,
    );
    expect([...active.keys()]).toEqual(["forever", "later"]);
    expect(active.get("forever")).toBeNull();
    expect(nextEnd(active)).toBe(new Date("2026-12-04T13:00:00Z").getTime());
    expect(nextEnd(activeMutes([{ conversationId: "forever", until: null }], now))).toBeNull();
  });
});

describe("prompt session", () => {
  it("remembers 'Not now' for the tab's session", () => {
    noteMessageSent();
    expect(sessionStorage.getItem("naafe-chat.notifications-prompt")).toBeNull();
    dismissPrompt();
    expect(sessionStorage.getItem("naafe-chat.notifications-prompt")).toBe("dismissed");
  });
});
