import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

export interface WriterOptions {
  /** Bytes queued for the client past which it is dropped as too slow. */
  maxBufferedBytes: number;
  /** How long a subscription waits for the client to drain its queue before it is dropped. */
  drainTimeoutMs: number;
  /** The client reads too slowly: close it (it reconnects and catches up). */
  onSlow: () => void;
}

/**
 * Every frame to one client goes through here. Frames of one tick leave in one write (a
 * sender's acknowledgement and its copy of the message are produced together, and each write
 * is a system call). Subscriptions wait for the client to read (`drained`) before producing
 * more, so a long catch-up follows the client's pace; a client that stops reading is dropped.
 */
export function createWriter(
  ws: WebSocket,
  socket: Duplex,
  { maxBufferedBytes, drainTimeoutMs, onSlow }: WriterOptions,
) {
  /** Past this, subscriptions pause until the queue is written out. */
  const highWater = Math.max(1, Math.floor(maxBufferedBytes / 4));
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  let waiting: ((drained: boolean) => void)[] = [];
  let stallTimer: NodeJS.Timeout | undefined;
  const wake = (drained: boolean) => {
    clearTimeout(stallTimer);
    stallTimer = undefined;
    const woken = waiting;
    waiting = [];
    for (const resolve of woken) resolve(drained);
  };
  socket.on("drain", () => wake(true));
  ws.once("close", () => wake(false));

  return {
    send(frame: string) {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > maxBufferedBytes) return onSlow();
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      ws.send(frame);
    },

    /** Whether a subscription should wait for `drained()` before producing its next value. */
    full: () => ws.bufferedAmount > highWater,

    /** Resolves true once the queue is written out, false if the connection closed or stalled first. */
    drained(): Promise<boolean> {
      if (ws.bufferedAmount <= highWater) return Promise.resolve(ws.readyState === ws.OPEN);
      stallTimer ??= setTimeout(() => {
        wake(false);
        onSlow();
      }, drainTimeoutMs);
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

export type Writer = ReturnType<typeof createWriter>;
