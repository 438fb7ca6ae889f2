import { useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useCallback } from "react";
import { type EventOf, type RouterOutputs, useTRPC } from "../../trpc.ts";
import type { MessagePages } from "../chat/message-pages.ts";

type ChangeEvent = EventOf<RouterOutputs["chat"]["onMessageChanged"]>["data"];

/** An edit or a deletion of a message, from the live feed or from the editor's own answer. */
export type MessageChange = Pick<ChangeEvent, "messageId" | "kind" | "content"> &
  Partial<Pick<ChangeEvent, "masked" | "maskedForReceiver">>;

/** The loaded pages with `change` applied to its message; the same object when the message is not loaded. */
export function applyChange(pages: MessagePages | undefined, change: MessageChange): MessagePages | undefined {
  if (!pages?.pages.some((page) => page.messages.some((m) => m.id === change.messageId))) return pages;
  return {
    ...pages,
    pages: pages.pages.map((page) => ({
      ...page,
      messages: page.messages.map((m) => {
        if (m.id !== change.messageId) return m;
        if (change.kind === "deleted") {
          return { ...m, content: "", deleted: true, masked: false, maskedForReceiver: false };
        }
        return {
          ...m,
          content: change.content,
          edited: true,
          ...(change.masked === undefined ? {} : { masked: change.masked }),
          ...(change.maskedForReceiver === undefined ? {} : { maskedForReceiver: change.maskedForReceiver }),
        };
      }),
    })),
  };
}

/** Applies a change to every loaded page of `chat.messages` (the conversation view's pages). */
export function useApplyChange() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return useCallback(
    (change: MessageChange) =>
      queryClient.setQueriesData<MessagePages>({ queryKey: trpc.chat.messages.pathKey() }, (pages) =>
        // Only the infinite pages of the view have `pages`; other cached shapes are left alone.
        pages && "pages" in pages ? applyChange(pages, change) : pages,
      ),
    [queryClient, trpc],
  );
}

/** Edits and deletions in the open conversation, as they happen on either side (tRPC resumes after a reconnect). */
export function useMessageChanges(conversationId: string) {
  const trpc = useTRPC();
  const apply = useApplyChange();
  useSubscription(
    trpc.chat.onMessageChanged.subscriptionOptions({ conversationId }, { onData: ({ data }) => apply(data) }),
  );
}
