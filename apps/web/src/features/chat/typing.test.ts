import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createTypingReporter } from "./typing.ts";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function setup() {
  const send = vi.fn<(isTyping: boolean) => void>();
  return { send, reporter: createTypingReporter({ send, renewMs: 2_500, idleMs: 5_000 }) };
}

describe("typing reporter", () => {
  it("sends typing on the first keystroke and renews it at most every 2.5 s while typing continues", () => {
    const { send, reporter } = setup();
    for (let i = 0; i < 30; i++) {
      reporter.report(true);
      vi.advanceTimersByTime(200);
    }
    // 6 s of keystrokes: at 0, 2.6 and 5.2 s, so the server's 6 s expiry never strikes.
    expect(send.mock.calls).toEqual([[true], [true], [true]]);
  });

  it("sends stopped once when the text is cleared, and nothing more while nobody types", () => {
    const { send, reporter } = setup();
    reporter.report(true);
    reporter.report(false);
    reporter.report(false);
    reporter.stop();
    vi.advanceTimersByTime(10_000);
    expect(send.mock.calls).toEqual([[true], [false]]);
  });

  it("stops by itself after a pause, and starts again on the next keystroke", () => {
    const { send, reporter } = setup();
    reporter.report(true);
    vi.advanceTimersByTime(4_900);
    expect(send.mock.calls).toEqual([[true]]);
    vi.advanceTimersByTime(100);
    expect(send.mock.calls).toEqual([[true], [false]]);

    reporter.report(true);
    expect(send.mock.calls).toEqual([[true], [false], [true]]);
  });

  it("starts again at once after a send, without waiting for the renewal interval", () => {
    const { send, reporter } = setup();
    reporter.report(true);
    reporter.report(false); // sent
    reporter.report(true); // the next message begins
    expect(send.mock.calls).toEqual([[true], [false], [true]]);
  });

  it("does not report stopped for someone who never typed", () => {
    const { send, reporter } = setup();
    reporter.stop();
    reporter.report(false);
    expect(send).not.toHaveBeenCalled();
  });
});
