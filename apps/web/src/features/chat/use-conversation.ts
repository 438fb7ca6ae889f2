import { skipToken, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { describeError } from "../../describe-error.ts";
import { useTRPC, useTRPCClient } from "../../trpc.ts";
import {
  addMessage,
  type ChatMessage,
  createReceipts,
  flatten,
  fromNew,
  fromStored,
  type MessagePage,
  type MessagePages,
  markOwnDelivered,
  markOwnRead,
  mergeNewestPage,
  type NewMessage,
  withReceipts,
} from "./message-pages.ts";
import { type PendingMessage, useOutbox } from "./outbox.tsx";

const PAGE_SIZE = 30;

/**
 * One conversation as the view shows it: history loaded upwards a page at a time, live messages
 * appended, sends in flight, delivery and read receipts, and marking incoming messages read while visible.
 */
export function useConversation(conversationId: string, me: string) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const { outbox, pending } = useOutbox(conversationId);

  const conversation = useQuery(trpc.chat.conversation.queryOptions({ conversationId }));

  // The same shape as tRPC's own keys, so invalidating `chat.messages` covers these pages too.
  const pagesKey = useMemo(
    () => [...trpc.chat.messages.pathKey(), { input: { conversationId }, type: "infinite" }],
    [trpc, conversationId],
  );
  const updatePages = useCallback(
    (update: (pages: MessagePages | undefined) => MessagePages | undefined) =>
      queryClient.setQueryData<MessagePages>(pagesKey, update),
    [queryClient, pagesKey],
  );

  // Every receipt seen while the view is open, for messages (and answers) that arrive after it.
  const receipts = useRef(createReceipts());
  const withLatest = useCallback((message: ChatMessage) => withReceipts(message, me, receipts.current), [me]);
  const add = useCallback(
    (message: ChatMessage) => updatePages((pages) => addMessage(pages, withLatest(message))),
    [updatePages, withLatest],
  );

  const history = useInfiniteQuery({
    queryKey: pagesKey,
    initialPageParam: null as string | null,
    getNextPageParam: (page: MessagePage) => page.nextCursor,
    // Live events keep the pages current while the view is open. Coming back to a conversation
    // refetches them, since read receipts given meanwhile were not seen; a reconnect does too.
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnMount: "always",
    queryFn: async ({ pageParam, signal }): Promise<MessagePage> => {
      const answer = await client.chat.messages.query(
        { conversationId, limit: PAGE_SIZE, ...(pageParam ? { before: pageParam } : {}) },
        { signal },
      );
      const messages = answer.messages.map((message) => withLatest(fromStored(message)));
      const page = { messages, nextCursor: answer.nextCursor };
      if (pageParam !== null) return page;
      return mergeNewestPage(page, queryClient.getQueryData<MessagePages>(pagesKey)?.pages[0]);
    },
  });

  // The live feed starts right after the newest message of the first page loaded, so nothing sent
  // in between is missed; after that, tRPC resumes it from the last event it delivered.
  const [resumeAfter, setResumeAfter] = useState<string | null>();
  const loadedNewest = history.data ? (history.data.pages[0]?.messages.at(-1)?.id ?? null) : undefined;
  if (resumeAfter === undefined && loadedNewest !== undefined) setResumeAfter(loadedNewest);

  const live = useSubscription(
    trpc.chat.onMessage.subscriptionOptions(
      resumeAfter === undefined ? skipToken : { conversationId, lastEventId: resumeAfter },
      {
        onData({ data }) {
          add(fromNew(data));
          if (data.senderId === me && data.clientMessageId) outbox.acknowledge(data.clientMessageId);
        },
      },
    ),
  );

  useSubscription(
    trpc.chat.onMessagesRead.subscriptionOptions(
      { conversationId },
      {
        onData(event) {
          if (event.readerId === me) return;
          const latest = receipts.current.readAt;
          if (!latest || event.readAt > latest) receipts.current.readAt = event.readAt;
          updatePages((pages) => markOwnRead(pages, me, event.readAt));
        },
      },
    ),
  );

  useSubscription(
    trpc.chat.onMessagesDelivered.subscriptionOptions(
      { conversationId },
      {
        onData(event) {
          if (event.receiverId === me) return;
          for (const id of event.messageIds) receipts.current.delivered.set(id, event.deliveredAt);
          updatePages((pages) => markOwnDelivered(pages, me, event.messageIds, event.deliveredAt));
        },
      },
    ),
  );

  // The outbox sends (now, or once the network is back, maybe from another tab); a send's answer
  // shows the message here at once, before the live feed echoes it.
  useEffect(
    () =>
      outbox.onSent((item, sent) => {
        if (item.conversationId === conversationId) add(fromNew({ ...sent, senderId: me }));
      }),
    [outbox, conversationId, add, me],
  );
  const send = useCallback((content: string) => void outbox.add(conversationId, content), [outbox, conversationId]);
  const retry = useCallback((item: PendingMessage) => outbox.retry(item.clientMessageId), [outbox]);
  const discard = useCallback((item: PendingMessage) => void outbox.discard(item.clientMessageId), [outbox]);
  /** A message sent without the outbox (one with attachments): shown at once, before the live echo. */
  const addSent = useCallback(
    (sent: Omit<NewMessage, "senderId">) => add(fromNew({ ...sent, senderId: me })),
    [add, me],
  );

  useMarkReadWhileVisible(conversationId, conversation.data?.unreadCount ?? 0);

  return {
    conversation,
    history,
    messages: useMemo(() => flatten(history.data), [history.data]),
    pending,
    send,
    retry,
    discard,
    addSent,
    liveError: live.status === "error" ? describeError(live.error) : null,
  };
}

function useMarkReadWhileVisible(conversationId: string, unread: number) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const visible = usePageVisible();
  const { mutate: markRead, isPending } = useMutation(
    trpc.chat.markRead.mutationOptions({
      onSuccess() {
        queryClient.setQueryData(trpc.chat.conversation.queryKey({ conversationId }), (conversation) =>
          conversation ? { ...conversation, unreadCount: 0 } : conversation,
        );
        void queryClient.invalidateQueries({ queryKey: trpc.chat.unreadCount.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.chat.conversations.pathKey() });
      },
    }),
  );
  useEffect(() => {
    if (visible && unread > 0 && !isPending) markRead({ conversationId });
  }, [visible, unread, isPending, markRead, conversationId]);
}

function subscribeVisibility(onChange: () => void) {
  document.addEventListener("visibilitychange", onChange);
  return () => document.removeEventListener("visibilitychange", onChange);
}

function usePageVisible() {
  return useSyncExternalStore(subscribeVisibility, () => document.visibilityState === "visible");
}
