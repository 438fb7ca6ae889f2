import { describe, expect, it } from "vitest";
import { parseRoute, type Route, routeHref } from "./route.ts";

describe("route", () => {
  it.each<[string, Route]>([
    ["", { name: "home" }],
    ["#/", { name: "home" }],
    ["#/marketplace", { name: "marketplace" }],
    ["#/c/abc-123", { name: "conversation", id: "abc-123" }],
    ["#/c/abc-123/m/msg-9", { name: "conversation", id: "abc-123", messageId: "msg-9" }],
    ["#/moderation", { name: "moderation" }],
    ["#/moderation/c/abc-123", { name: "moderation", conversationId: "abc-123" }],
    ["#/nowhere", { name: "home" }],
  ])("reads %j", (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
  });

  it("round-trips ids that need escaping", () => {
    const route: Route = { name: "conversation", id: "a/b c?" };
    expect(parseRoute(routeHref(route))).toEqual(route);
    const hit: Route = { name: "conversation", id: "a/b", messageId: "m/1 ?" };
    expect(parseRoute(routeHref(hit))).toEqual(hit);
    const moderated: Route = { name: "moderation", conversationId: "a/b c?" };
    expect(parseRoute(routeHref(moderated))).toEqual(moderated);
  });
});
