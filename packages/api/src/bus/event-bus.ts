/**
 * Fan-out of live events between procedures, and between server processes when scaled out.
 * In memory by default; Redis pub/sub when `REDIS_URL` is set. Delivery is best effort:
 * messages are durable in the database and `lastEventId` catch-up closes any gap.
 */
export interface EventBus {
  publish<T>(topic: Topic<T>, event: T): Promise<void>;
  /** Calls `listener` for each event on `topic` until the returned function is called. */
  subscribe<T>(topic: Topic<T>, listener: (event: T) => void): () => void;
  close(): Promise<void>;
}

/** A channel name that carries events of type T. */
export interface Topic<T> {
  readonly name: string;
  readonly _event?: T;
}

const topic = <T>(name: string): Topic<T> => ({ name });

export interface MessageEvent {
  messageId: string;
  conversationId: string;
  seq: number;
  senderId: string;
  receiverId: string;
  content: string;
  timestamp: Date;
  clientMessageId: string | null;
}

export interface MessagesReadEvent {
  conversationId: string;
  readCount: number;
  readerId: string;
  readAt: Date;
}

export interface InboxEvent {
  kind: "message" | "read" | "conversation";
  conversationId: string;
}

export const topics = {
  messages: (conversationId: string) => topic<MessageEvent>(`messages:${conversationId}`),
  reads: (conversationId: string) => topic<MessagesReadEvent>(`reads:${conversationId}`),
  inbox: (userId: string) => topic<InboxEvent>(`inbox:${userId}`),
};
