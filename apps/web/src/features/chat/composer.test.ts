// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Composer } from "./composer.tsx";

afterEach(cleanup);

function setup() {
  const onSend = vi.fn();
  render(createElement(Composer, { onSend }));
  const input = screen.getByLabelText<HTMLTextAreaElement>("Message");
  const send = screen.getByRole<HTMLButtonElement>("button", { name: "Send" });
  return { onSend, input, send };
}

describe("Composer", () => {
  it("counts characters as a person does, and refuses more than 2000", () => {
    const { input, send } = setup();
    fireEvent.change(input, { target: { value: "😀".repeat(2000) } });
    expect(screen.getByText("2000/2000")).toBeTruthy();
    expect(send.disabled).toBe(false);

    fireEvent.change(input, { target: { value: `${"😀".repeat(2000)}!` } });
    expect(screen.getByText("2001/2000")).toBeTruthy();
    expect(send.disabled).toBe(true);
    expect(input.getAttribute("aria-invalid")).toBe("true");
  });

  it("sends trimmed text with Enter, keeps Shift+Enter for new lines, and clears itself", () => {
    const { input, onSend } = setup();
    fireEvent.change(input, { target: { value: "  first line" } });
    fireEvent.keyDown(input, { key: "Enter", shiftKey: true });
    expect(onSend).not.toHaveBeenCalled();

    fireEvent.keyDown(input, { key: "Enter" });
    expect(onSend).toHaveBeenCalledWith("first line");
    expect(input.value).toBe("");
  });

  it("does not send blank text", () => {
    const { input, send, onSend } = setup();
    fireEvent.change(input, { target: { value: "   \n " } });
    fireEvent.keyDown(input, { key: "Enter" });
    expect(onSend).not.toHaveBeenCalled();
    expect(send.disabled).toBe(true);
  });
});

describe("Composer typing reports", () => {
  it("reports typing while there is text, and stopped on clear, send and leaving the field", () => {
    const onTypingChange = vi.fn();
    render(createElement(Composer, { onSend: vi.fn(), onTypingChange }));
    const input = screen.getByLabelText<HTMLTextAreaElement>("Message");

    fireEvent.change(input, { target: { value: "Hel" } });
    fireEvent.change(input, { target: { value: "" } });
    fireEvent.change(input, { target: { value: "  " } });
    fireEvent.change(input, { target: { value: "Hello" } });
    fireEvent.keyDown(input, { key: "Enter" });
    fireEvent.change(input, { target: { value: "P.S." } });
    fireEvent.blur(input);

    expect(onTypingChange.mock.calls).toEqual([[true], [false], [false], [true], [false], [true], [false]]);
  });

  it("sends without text when attachments are ready, and waits while they upload", () => {
    const onSend = vi.fn();
    const { rerender } = render(createElement(Composer, { onSend, allowEmpty: true, sendBlocked: true }));
    const send = screen.getByRole<HTMLButtonElement>("button", { name: "Send" });
    expect(send.disabled).toBe(true);
    rerender(createElement(Composer, { onSend, allowEmpty: true, sendBlocked: false }));
    expect(send.disabled).toBe(false);
    fireEvent.click(send);
    expect(onSend).toHaveBeenCalledWith("");
  });

  it("keeps the text until a send that returns a promise succeeds, and keeps it when it fails", async () => {
    let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
    const onSend = vi.fn(
      () =>
        new Promise<void>((resolve, reject) => {
          settle = { resolve, reject };
        }),
    );
    render(createElement(Composer, { onSend, allowEmpty: true }));
    const input = screen.getByLabelText<HTMLTextAreaElement>("Message");
    const send = screen.getByRole<HTMLButtonElement>("button", { name: "Send" });
    fireEvent.change(input, { target: { value: "with a photo" } });
    fireEvent.click(send);
    expect(input.value).toBe("with a photo");
    expect(send.disabled).toBe(true);
    await act(async () => settle?.reject(new Error("refused")));
    expect(input.value).toBe("with a photo");
    expect(send.disabled).toBe(false);

    fireEvent.click(send);
    await act(async () => settle?.resolve());
    expect(input.value).toBe("");
    expect(onSend).toHaveBeenCalledTimes(2);
  });

  it("hands pasted files over instead of pasting them", () => {
    const onPasteFiles = vi.fn();
    render(createElement(Composer, { onSend: vi.fn(), onPasteFiles }));
    const input = screen.getByLabelText<HTMLTextAreaElement>("Message");
    const file = new File(["x"], "shot.png", { type: "image/png" });
    fireEvent.paste(input, { clipboardData: { files: [file] } });
    expect(onPasteFiles).toHaveBeenCalledWith([file]);
  });
});
