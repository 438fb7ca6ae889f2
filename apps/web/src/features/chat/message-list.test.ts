// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MessageList } from "./message-list.tsx";
import type { ChatMessage, MessageStatus } from "./message-pages.ts";
import type { PendingMessage } from "./outbox.tsx";

afterEach(cleanup);

const message = (seq: number, senderId: string, content: string, status: MessageStatus = "sent"): ChatMessage => ({
  id: `m${seq}`,
  seq,
  senderId,
  content,
  timestamp: new Date(),
  status,
  deliveredAt: status === "sent" ? null : new Date(),
  readAt: status === "read" ? new Date() : null,
  clientMessageId: null,
});

function renderList(messages: ChatMessage[], pending: PendingMessage[] = [], onRetry = vi.fn(), onDiscard = vi.fn()) {
  render(
    createElement(MessageList, {
      me: "sara",
      messages,
      pending,
      onRetry,
      onDiscard,
      loading: false,
      error: null,
      hasOlder: false,
      loadingOlder: false,
      onLoadOlder: vi.fn(),
    }),
  );
  return { onRetry, onDiscard };
}

describe("MessageList", () => {
  it("shows what people typed as text, markup included", () => {
    renderList([message(1, "omar", '<img src=x onerror="alert(1)"> <b>hi</b>')]);
    const log = screen.getByRole("log");
    expect(log.textContent).toContain('<img src=x onerror="alert(1)"> <b>hi</b>');
    expect(log.querySelector("img, b")).toBeNull();
  });

  it("shows sent, delivered and read receipts on my messages only", () => {
    renderList([
      message(1, "sara", "mine, on the server"),
      message(2, "sara", "mine, on Omar's phone", "delivered"),
      message(3, "sara", "mine, read", "read"),
      message(4, "omar", "theirs", "read"),
    ]);
    expect(screen.getAllByText("✓ Sent")).toHaveLength(1);
    expect(screen.getAllByText("✓✓ Delivered")).toHaveLength(1);
    const read = screen.getAllByText("✓✓ Read");
    expect(read).toHaveLength(1);
    // Read looks different from delivered, not only by its words.
    expect(read[0]?.getAttribute("data-status")).toBe("read");
    expect(read[0]?.title).toMatch(/^Read /);
  });

  it("offers a retry and a discard for a failed send, with the reason", () => {
    const failed: PendingMessage = {
      clientMessageId: "c-1",
      userId: "sara",
      conversationId: "c",
      content: "did it go?",
      createdAt: 1,
      status: "failed",
      error: { code: "TOO_MANY_REQUESTS", message: "slow down", retryAfter: 2 },
    };
    const { onRetry, onDiscard } = renderList(
      [],
      [
        failed,
        { ...failed, clientMessageId: "c-2", status: "sending", error: null },
        { ...failed, clientMessageId: "c-3", status: "queued", error: null },
      ],
    );
    expect(screen.getByText("Not sent: You're sending too fast. Try again in 2 seconds.")).toBeTruthy();
    expect(screen.getByText("Sending…")).toBeTruthy();
    expect(screen.getByText("Waiting for the network…")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(onRetry).toHaveBeenCalledWith(failed);
    fireEvent.click(screen.getByRole("button", { name: "Discard" }));
    expect(onDiscard).toHaveBeenCalledWith(failed);
  });
});
