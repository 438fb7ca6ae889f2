import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useState } from "react";
import { useTRPC, useTRPCClient } from "../../trpc.ts";

export interface TypingReporterOptions {
  send: (isTyping: boolean) => void;
  /**
   * While the person keeps typing, "typing" is sent again at most this often. The server drops
   * repeats within 2 s and forgets a "typing" not renewed within 6 s, so this sits in between.
   */
  renewMs?: number;
  /** A pause this long ends "typing", as a person who stopped to think is no longer typing. */
  idleMs?: number;
}

/**
 * Turns the composer's keystrokes into few `chat.typing` calls: "typing" on the first
 * keystroke and renewed while keystrokes continue, "stopped" once (on clear, send, blur,
 * leaving the conversation, or a pause), and nothing while the state is unchanged.
 */
export function createTypingReporter({ send, renewMs = 2_500, idleMs = 5_000 }: TypingReporterOptions) {
  let typing = false;
  let sentAt = 0;
  let idle: ReturnType<typeof setTimeout> | undefined;

  function stop() {
    clearTimeout(idle);
    idle = undefined;
    if (!typing) return;
    typing = false;
    send(false);
  }

  return {
    /** `true` on each keystroke that leaves text in the composer; `false` when it is cleared, sent or left. */
    report(isTyping: boolean) {
      if (!isTyping) return stop();
      clearTimeout(idle);
      idle = setTimeout(stop, idleMs);
      const now = Date.now();
      if (typing && now - sentAt < renewMs) return;
      typing = true;
      sentAt = now;
      send(true);
    },
    stop,
  };
}

/** The composer's `onTypingChange` for one conversation. */
export function useTypingReporter(conversationId: string) {
  const client = useTRPCClient();
  const [reporter] = useState(() =>
    createTypingReporter({
      send(isTyping) {
        // Best effort: a lost "typing" costs nothing worth telling the person about, and an
        // unrenewed one expires on the server by itself.
        client.chat.typing.mutate({ conversationId, isTyping }).catch(() => {});
      },
    }),
  );
  // Leaving the conversation (or closing the view) mid-sentence is stopping.
  useEffect(() => reporter.stop, [reporter]);
  return reporter.report;
}

/**
 * Who else is typing in the conversation, from `chat.onTyping` (which leaves out one's own
 * typing and sends "stopped" when a "typing" expires). Nothing is shown while the
 * subscription is not connected: a "stopped" may have been missed meanwhile.
 */
export function useTypingUsers(conversationId: string): ReadonlySet<string> {
  const trpc = useTRPC();
  const [typing, setTyping] = useState<ReadonlySet<string>>(() => new Set());
  const { status } = useSubscription(
    trpc.chat.onTyping.subscriptionOptions(
      { conversationId },
      {
        onData({ userId, isTyping }) {
          setTyping((current) => {
            if (current.has(userId) === isTyping) return current;
            const next = new Set(current);
            if (isTyping) next.add(userId);
            else next.delete(userId);
            return next;
          });
        },
      },
    ),
  );
  const connected = status === "pending";
  useEffect(() => {
    if (!connected) setTyping((current) => (current.size === 0 ? current : new Set()));
  }, [connected]);
  return connected ? typing : noOne;
}

const noOne: ReadonlySet<string> = new Set();
