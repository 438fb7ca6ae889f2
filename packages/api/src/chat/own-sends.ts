/** How many of a connection's latest sends it remembers: each is skipped within milliseconds. */
const REMEMBERED = 256;

/**
 * The messages one connection sent, for its `onMessage` subscriptions that asked not to get
 * them back (`echo: false`): the sender has each one already, in its `sendMessage` result.
 * Only sends to conversations such a subscription watches are recorded, and only the latest
 * few, so a connection that never asks costs two empty fields.
 */
export class OwnSends {
  private watching: Map<string, number> | undefined;
  private sent: Set<string> | undefined;

  /** Records this connection's sends to `conversationId` until the returned function is first called. */
  watch(conversationId: string): () => void {
    this.watching ??= new Map();
    this.watching.set(conversationId, (this.watching.get(conversationId) ?? 0) + 1);
    let watched = true;
    return () => {
      if (!watched) return;
      watched = false;
      const left = (this.watching?.get(conversationId) ?? 1) - 1;
      if (left > 0) this.watching?.set(conversationId, left);
      else this.watching?.delete(conversationId);
    };
  }

  /** Called before the message is published, so its subscribers can already tell. */
  record(conversationId: string, messageId: string) {
    if (!this.watching?.has(conversationId)) return;
    this.sent ??= new Set();
    this.sent.add(messageId);
    if (this.sent.size > REMEMBERED) this.sent.delete(this.sent.values().next().value as string);
  }

  has(messageId: string) {
    return this.sent?.has(messageId) ?? false;
  }
}
