import { describe, expect, it } from "vitest";
import { parseRoute, type Route, routeHref } from "./route.ts";

describe("route", () => {
  it.each<[string, Route]>([
    ["", { name: "home" }],
    ["#/", { name: "home" }],
    ["#/marketplace", { name: "marketplace" }],
    ["#/c/abc-123", { name: "conversation", id: "abc-123" }],
    ["#/nowhere", { name: "home" }],
  ])("reads %j", (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
  });

  it("round-trips ids that need escaping", () => {
    const route: Route = { name: "conversation", id: "a/b c?" };
    expect(parseRoute(routeHref(route))).toEqual(route);
  });
});
