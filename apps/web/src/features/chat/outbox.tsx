import { createContext, type ReactNode, useContext, useMemo, useState, useSyncExternalStore } from "react";

/** A message the server has not confirmed yet. */
export interface PendingMessage {
  /** Sent with every attempt, so the server stores the message once however often it is retried. */
  clientMessageId: string;
  conversationId: string;
  content: string;
  status: "sending" | "failed";
  error: string | null;
}

/**
 * Messages on their way, per session rather than per screen: a send that is still in flight
 * when the person switches conversations shows up again when they come back.
 */
export function createOutbox() {
  let items: readonly PendingMessage[] = [];
  const listeners = new Set<() => void>();
  const set = (next: readonly PendingMessage[]) => {
    items = next;
    for (const listener of listeners) listener();
  };
  return {
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: () => items,
    add(conversationId: string, content: string): PendingMessage {
      const item: PendingMessage = {
        clientMessageId: crypto.randomUUID(),
        conversationId,
        content,
        status: "sending",
        error: null,
      };
      set([...items, item]);
      return item;
    },
    update(clientMessageId: string, patch: Pick<PendingMessage, "status" | "error">) {
      set(items.map((item) => (item.clientMessageId === clientMessageId ? { ...item, ...patch } : item)));
    },
    remove(clientMessageId: string) {
      if (items.some((item) => item.clientMessageId === clientMessageId))
        set(items.filter((item) => item.clientMessageId !== clientMessageId));
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;

const OutboxContext = createContext<Outbox | null>(null);

export function OutboxProvider({ children }: { children: ReactNode }) {
  const [outbox] = useState(createOutbox);
  return <OutboxContext value={outbox}>{children}</OutboxContext>;
}

/** The outbox, and the messages in it for one conversation. */
export function useOutbox(conversationId: string) {
  const outbox = useContext(OutboxContext);
  if (!outbox) throw new Error("useOutbox needs an <OutboxProvider>.");
  const items = useSyncExternalStore(outbox.subscribe, outbox.getSnapshot);
  const pending = useMemo(
    () => items.filter((item) => item.conversationId === conversationId),
    [items, conversationId],
  );
  return { outbox, pending };
}
