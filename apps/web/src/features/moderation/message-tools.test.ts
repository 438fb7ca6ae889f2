// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatMessage } from "../chat/message-pages.ts";
import { EditedLabel, MaskedNotice, MessageBubble } from "./message-tools.tsx";

afterEach(cleanup);

const message = (overrides: Partial<ChatMessage> = {}): ChatMessage => ({
  id: "m1",
  seq: 1,
  senderId: "omar",
  content: "See you at 9",
  timestamp: new Date(),
  status: "sent",
  deliveredAt: null,
  readAt: null,
  clientMessageId: null,
  type: "text",
  ...overrides,
});

const menuButton = () => screen.queryByRole("button", { name: "Message actions" });

describe("the message menu", () => {
  it("opens from the keyboard on its first item, moves with the arrows, and Escape returns to the button", () => {
    render(createElement(MessageBubble, { message: message(), mine: true }));
    const button = menuButton();
    if (!button) throw new Error("no menu button on a recent message of mine");
    expect(button.getAttribute("aria-expanded")).toBe("false");

    button.focus();
    fireEvent.keyDown(button, { key: "ArrowDown" });
    const menu = screen.getByRole("menu");
    expect(button.getAttribute("aria-expanded")).toBe("true");
    expect(button.getAttribute("aria-controls")).toBe(menu.id);
    expect(document.activeElement?.textContent).toBe("Edit");

    fireEvent.keyDown(menu, { key: "ArrowDown" });
    expect(document.activeElement?.textContent).toBe("Delete");
    fireEvent.keyDown(menu, { key: "ArrowDown" });
    expect(document.activeElement?.textContent).toBe("Edit");
    fireEvent.keyDown(menu, { key: "End" });
    expect(document.activeElement?.textContent).toBe("Delete");

    fireEvent.keyDown(menu, { key: "Escape" });
    expect(screen.queryByRole("menu")).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it("is offered only on one's own text messages still within the edit window", () => {
    render(createElement(MessageBubble, { message: message(), mine: false }));
    expect(menuButton()).toBeNull();
    cleanup();
    render(
      createElement(MessageBubble, { message: message({ timestamp: new Date(Date.now() - 16 * 60_000) }), mine: true }),
    );
    expect(menuButton()).toBeNull();
    cleanup();
    render(createElement(MessageBubble, { message: message({ type: "system" }), mine: true }));
    expect(menuButton()).toBeNull();
  });
});

describe("what a message says about itself", () => {
  it("shows a deleted message as deleted, with no menu and no text", () => {
    render(createElement(MessageBubble, { message: message({ deleted: true, content: "" }), mine: true }));
    expect(screen.getByText("Message deleted")).toBeTruthy();
    expect(menuButton()).toBeNull();
  });

  it("marks an edited message, but not once it is deleted", () => {
    render(createElement(EditedLabel, { message: message({ edited: true }) }));
    expect(screen.getByText("edited")).toBeTruthy();
    cleanup();
    render(createElement(EditedLabel, { message: message({ edited: true, deleted: true }) }));
    expect(screen.queryByText("edited")).toBeNull();
  });

  it("suggests Share contact to the sender of a masked message, and explains the dots to its receiver", () => {
    render(createElement(MaskedNotice, { message: message({ maskedForReceiver: true }), mine: true }));
    expect(screen.getByText(/hidden from the other person until the job is completed/).textContent).toMatch(
      /Share my contact/,
    );
    cleanup();
    render(createElement(MaskedNotice, { message: message({ masked: true, content: "call •••" }), mine: false }));
    expect(screen.getByText("Contact details are hidden until the job is completed.")).toBeTruthy();
    cleanup();
    render(createElement(MaskedNotice, { message: message(), mine: true }));
    expect(document.body.textContent).toBe("");
  });
});
