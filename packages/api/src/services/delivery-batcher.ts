/** How long a subscription collects deliveries before writing them, and how many at most. */
const FLUSH_AFTER_MS = 50;
const FLUSH_EVERY_MESSAGES = 500;

interface DeliveryBatcherOptions {
  /** The user the subscription belongs to; only messages to them are marked. */
  receiverId: string;
  /** The seq the subscription started after: everything it yields comes in order after it. */
  startSeq: number;
  /** Marks the receiver's messages with `afterSeq < seq <= upToSeq` delivered. */
  markDelivered: (afterSeq: number, upToSeq: number) => Promise<unknown>;
  onError?: ((error: unknown) => void) | undefined;
}

/**
 * Turns the messages one `onMessage` subscription hands to its client into few writes: the
 * subscription yields consecutive seqs, so "everything up to here" is one range, written by
 * one UPDATE per batch, and only when some message in it was addressed to the receiver
 * (a sender's own devices cause no writes).
 */
export function createDeliveryBatcher({ receiverId, startSeq, markDelivered, onError }: DeliveryBatcherOptions) {
  let markedUpTo = startSeq;
  let receivedUpTo = startSeq;
  let pendingForReceiver = false;
  let timer: NodeJS.Timeout | undefined;

  function flush() {
    clearTimeout(timer);
    timer = undefined;
    if (pendingForReceiver) markDelivered(markedUpTo, receivedUpTo).catch((error: unknown) => onError?.(error));
    pendingForReceiver = false;
    markedUpTo = receivedUpTo;
  }

  return {
    /** The client got this message (the subscription yielded it). */
    received(message: { seq: number; receiverId: string }) {
      receivedUpTo = Math.max(receivedUpTo, message.seq);
      if (message.receiverId === receiverId) pendingForReceiver = true;
      if (receivedUpTo - markedUpTo >= FLUSH_EVERY_MESSAGES) flush();
      else timer ??= setTimeout(flush, FLUSH_AFTER_MS);
    },
    /** Writes what is pending now (the subscription is ending). */
    flush,
  };
}
