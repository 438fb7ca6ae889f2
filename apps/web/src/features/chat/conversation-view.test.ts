// @vitest-environment happy-dom
import { cleanup, render, screen } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { PresenceLabel, TypingIndicator } from "./conversation-view.tsx";

afterEach(cleanup);

describe("TypingIndicator", () => {
  it("stays in the page as a polite live region, so the text is announced when it appears", () => {
    const { rerender, container } = render(createElement(TypingIndicator, { name: null }));
    const region = container.querySelector("[aria-live=polite]");
    expect(region?.textContent).toBe("");

    rerender(createElement(TypingIndicator, { name: "Omar" }));
    expect(container.querySelector("[aria-live=polite]")).toBe(region);
    expect(region?.textContent).toBe("Omar is typing…");
  });
});

describe("PresenceLabel", () => {
  it("marks online apart from last seen", () => {
    render(createElement(PresenceLabel, { presence: { online: true, lastSeen: null } }));
    expect(screen.getByText("online").getAttribute("data-online")).toBe("true");
    cleanup();

    render(createElement(PresenceLabel, { presence: { online: false, lastSeen: new Date(Date.now() - 5 * 60_000) } }));
    const label = screen.getByText(/^last seen/);
    expect(label.textContent).toBe("last seen 5 minutes ago");
    expect(label.getAttribute("data-online")).toBeNull();
  });
});
