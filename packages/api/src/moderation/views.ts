import { type ContactMaskingMode, maskContacts, masksContacts } from "./masking.ts";

/** What moderation adds to a message as a participant sees it. */
export interface ModerationFlags {
  /** The content was masked for this reader (its receiver): contact details are hidden. */
  masked: boolean;
  /** For the sender: the receiver sees this message masked (show "use Share contact"). */
  maskedForReceiver: boolean;
  edited: boolean;
  /** Deleted by its sender: `content` is empty. */
  deleted: boolean;
}

interface ViewableMessage {
  senderId: string;
  content: string;
  type?: string | undefined;
  editedAt?: Date | null | undefined;
  deletedAt?: Date | null | undefined;
}

/**
 * A message's content and flags as `viewerId` may see them: empty when deleted, contact details
 * masked for its receiver while `masking` is on (system messages never are). The stored text is
 * never changed, so moderators and a later stage of the deal see the original.
 */
export function viewContent(message: ViewableMessage, viewerId: string, masking: boolean) {
  const deleted = message.deletedAt != null;
  const edited = message.editedAt != null;
  if (deleted) return { content: "", masked: false, maskedForReceiver: false, edited, deleted };
  if (!masking || message.type === "system") {
    return { content: message.content, masked: false, maskedForReceiver: false, edited, deleted };
  }
  const result = maskContacts(message.content);
  if (!result.masked) return { content: message.content, masked: false, maskedForReceiver: false, edited, deleted };
  return message.senderId === viewerId
    ? { content: message.content, masked: false, maskedForReceiver: true, edited, deleted }
    : { content: result.text, masked: true, maskedForReceiver: false, edited, deleted };
}

interface ConversationForLastMessage {
  lastMessageContent: string | null;
  lastMessageSenderId: string | null;
  lastMessageTimestamp: Date | null;
  messageCount: number;
  lastSystemMessageSeq: number | null;
  lastDeletedMessageSeq: number | null;
  jobRequest: { status: string };
}

/** A conversation's lastMessage as `viewerId` may see it (masked, or "deleted"), or null before the first message. */
export function lastMessageView(conversation: ConversationForLastMessage, viewerId: string, mode: ContactMaskingMode) {
  const { lastMessageContent: content, lastMessageSenderId: senderId, lastMessageTimestamp: timestamp } = conversation;
  if (content === null || senderId === null || timestamp === null) return null;
  const last = conversation.messageCount;
  const view = viewContent(
    {
      senderId,
      content,
      type: conversation.lastSystemMessageSeq === last ? "system" : "text",
      deletedAt: conversation.lastDeletedMessageSeq === last ? timestamp : null,
    },
    viewerId,
    masksContacts(mode, conversation.jobRequest.status),
  );
  return { content: view.content, senderId, timestamp, masked: view.masked, deleted: view.deleted };
}
