import { createContext, type ReactNode, useContext, useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { type RouterOutputs, useTRPCClient } from "../../trpc.ts";
import { useLocale } from "../i18n/i18n.ts";
import { createOutbox, type Outbox } from "../offline/outbox.ts";
import { memoryStorage, type OutboxStorage, openOutboxStorage } from "../offline/outbox-storage.ts";

export type { PendingMessage } from "../offline/outbox.ts";

export type SentMessage = RouterOutputs["chat"]["sendMessage"];
export type ChatOutbox = Outbox<SentMessage>;

const OutboxContext = createContext<ChatOutbox | null>(null);

/** IndexedDB can hang on open (another tab upgrading it): after this long, memory it is. */
const OPEN_TIMEOUT_MS = 3_000;

function openStorageInTime(): Promise<OutboxStorage> {
  return Promise.race([
    openOutboxStorage(),
    new Promise<OutboxStorage>((resolve) => setTimeout(() => resolve(memoryStorage()), OPEN_TIMEOUT_MS)),
  ]);
}

interface Props {
  userId: string;
  /** The live connection is up: a moment to send what waited for the network. */
  live: boolean;
  children: ReactNode;
}

/**
 * One person's outbox for all their conversations, shared with their other tabs through
 * IndexedDB: what was sent offline, or before a reload, goes out once the network is back.
 */
export function OutboxProvider({ userId, live, children }: Props) {
  const client = useTRPCClient();
  const [outbox, setOutbox] = useState<ChatOutbox | null>(null);

  useEffect(() => {
    let created: ChatOutbox | null = null;
    let cancelled = false;
    void openStorageInTime().then((storage) => {
      if (cancelled) return;
      created = createOutbox<SentMessage>({
        userId,
        storage,
        send: ({ conversationId, content, clientMessageId }) =>
          client.chat.sendMessage.mutate({ conversationId, content, clientMessageId }),
        channel: typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("naafe-outbox"),
      });
      setOutbox(created);
      void created.start();
    });
    return () => {
      cancelled = true;
      created?.dispose();
    };
  }, [userId, client]);

  useEffect(() => {
    if (!outbox) return;
    const onOnline = () => void outbox.flush();
    window.addEventListener("online", onOnline);
    return () => window.removeEventListener("online", onOnline);
  }, [outbox]);

  useEffect(() => {
    if (outbox && live) void outbox.flush();
  }, [outbox, live]);

  if (!outbox) return null;
  return <OutboxContext value={outbox}>{children}</OutboxContext>;
}

function useOutboxContext(): ChatOutbox {
  const outbox = useContext(OutboxContext);
  if (!outbox) throw new Error("useOutbox needs an <OutboxProvider>.");
  return outbox;
}

/** The outbox, and the messages in it for one conversation. */
export function useOutbox(conversationId: string) {
  const outbox = useOutboxContext();
  const items = useSyncExternalStore(outbox.subscribe, outbox.getSnapshot);
  const pending = useMemo(
    () => items.filter((item) => item.conversationId === conversationId),
    [items, conversationId],
  );
  return { outbox, pending };
}

/** Says so when unsent messages would not survive a reload (private mode, storage full). */
export function OutboxNotice() {
  const outbox = useOutboxContext();
  const { t } = useLocale();
  const notice = useSyncExternalStore(outbox.subscribe, outbox.getNotice);
  if (!notice) return null;
  return (
    <p className="notice outbox-notice" role="status" data-notice={notice}>
      {t(`outbox.${notice}`)}
    </p>
  );
}

/** Whether unsent messages survive a reload on this device. */
export function useOutboxDurability() {
  const outbox = useOutboxContext();
  const notice = useSyncExternalStore(outbox.subscribe, outbox.getNotice);
  return outbox.durable && notice === null;
}
