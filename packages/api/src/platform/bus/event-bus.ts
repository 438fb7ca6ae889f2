/**
 * Fan-out of live events between procedures, and between server processes when scaled out.
 * In memory by default; Redis pub/sub when `REDIS_URL` is set. Delivery is best effort:
 * messages are durable in the database and `lastEventId` catch-up closes any gap.
 */
export interface EventBus {
  /** Rejects when the event could not be handed to the bus (say, Redis is unreachable). */
  publish<T>(topic: Topic<T>, event: T): Promise<void>;
  /**
   * Calls `listener` for each event on `topic` until unsubscribed, and `onMissed` whenever
   * events may have been lost meanwhile (the bus lost its connection and got it back), so
   * the subscriber can re-read what it needs from the database.
   */
  subscribe<T>(topic: Topic<T>, listener: (event: T) => void, onMissed?: () => void): Subscription;
  close(): Promise<void>;
}

export interface Subscription {
  /**
   * Resolves once events published from now on are sure to reach the listener, so a
   * subscriber may read its backlog after it. Also resolves when the bus is disconnected:
   * `onMissed` follows when it is back.
   */
  ready: Promise<void>;
  unsubscribe(): void;
}

/** A channel name that carries events of type T. */
export interface Topic<T> {
  readonly name: string;
  readonly _event?: T;
}

const topic = <T>(name: string): Topic<T> => ({ name });

/** A file a message carries, without links (each reader gets links of their own). */
export interface MessageAttachment {
  id: string;
  name: string;
  mimeType: string;
  size: number;
  width: number | null;
  height: number | null;
  hasThumbnail: boolean;
}

export interface MessageEvent {
  messageId: string;
  conversationId: string;
  seq: number;
  senderId: string;
  receiverId: string;
  content: string;
  timestamp: Date;
  clientMessageId: string | null;
  /** `system` for notices (shared contact details, "closed by Naafe"). */
  type: "text" | "image" | "file" | "system";
  /** The files an image or file message carries, when it is fresh (read back, they are looked up). */
  attachments?: MessageAttachment[] | undefined;
  /** Set when read back from the database (catch-up): the message was edited or deleted since. */
  editedAt?: Date | null;
  deletedAt?: Date | null;
}

export interface MessagesReadEvent {
  conversationId: string;
  readCount: number;
  readerId: string;
  readAt: Date;
}

/** Messages that reached a session of their receiver for the first time. */
export interface MessagesDeliveredEvent {
  conversationId: string;
  receiverId: string;
  messageIds: string[];
  deliveredAt: Date;
}

export interface TypingEvent {
  conversationId: string;
  userId: string;
  isTyping: boolean;
}

export interface PresenceEvent {
  userId: string;
  online: boolean;
  /** When the user was last connected; null while online or when never seen. */
  lastSeen: Date | null;
}

/** Something changed for this user: a conversation (new, message, read) or an offer on a job of theirs. */
export type InboxEvent =
  | { kind: "message" | "read" | "conversation"; conversationId: string }
  | { kind: "offer"; jobRequestId: string };

export const topics = {
  messages: (conversationId: string) => topic<MessageEvent>(`messages:${conversationId}`),
  reads: (conversationId: string) => topic<MessagesReadEvent>(`reads:${conversationId}`),
  deliveries: (conversationId: string) => topic<MessagesDeliveredEvent>(`deliveries:${conversationId}`),
  typing: (conversationId: string) => topic<TypingEvent>(`typing:${conversationId}`),
  presence: (userId: string) => topic<PresenceEvent>(`presence:${userId}`),
  inbox: (userId: string) => topic<InboxEvent>(`inbox:${userId}`),
  /** A user signed out everywhere: every instance closes their connections. */
  revocations: topic<{ userId: string }>("revocations"),
};

/** Hands an event to the bus without waiting for it (see `publishBestEffort`). */
export type Publish = <T>(topic: Topic<T>, event: T) => void;

/**
 * Live events are best effort: the change is already stored, and every subscriber closes gaps
 * from the database. So a failed publish is reported to `onError`, never thrown at the caller.
 */
export function publishBestEffort(bus: EventBus, onError: (error: unknown) => void): Publish {
  return (topic, event) => {
    bus.publish(topic, event).catch(onError);
  };
}
