import { isTrackedEnvelope } from "@trpc/server";
import type { TRPCResultMessage } from "@trpc/server/rpc";
import type { Writer } from "./writer.ts";

const STOPPED = Symbol("stopped");

/**
 * Hands a subscription's values to the client until the source ends, the client stops it or
 * the connection closes (`stop` aborts). Each wait for the next value also ends at once on a
 * stop, through a resolver made for that wait only: nothing outlives the value it waited for.
 * Before producing more, it waits for the client to read what it has (`writer.drained`).
 */
export async function pipeSubscription(
  source: AsyncIterable<unknown>,
  stop: AbortSignal,
  writer: Pick<Writer, "full" | "drained">,
  send: (result: TRPCResultMessage<unknown>["result"]) => void,
): Promise<void> {
  const iterator = source[Symbol.asyncIterator]();
  let wake: ((stopped: typeof STOPPED) => void) | undefined;
  const onStop = () => wake?.(STOPPED);
  stop.addEventListener("abort", onStop, { once: true });
  let finished = false;
  try {
    while (!stop.aborted) {
      const next = await new Promise<IteratorResult<unknown> | typeof STOPPED>((resolve, reject) => {
        wake = resolve;
        iterator.next().then(resolve, reject);
      });
      wake = undefined;
      if (next === STOPPED) break;
      if (next.done) {
        finished = true;
        break;
      }
      const value = next.value;
      if (isTrackedEnvelope(value)) {
        const [id, data] = value;
        send({ type: "data", id, data: { id, data } });
      } else {
        send({ type: "data", data: value });
      }
      if (writer.full() && !(await writer.drained())) break;
    }
  } finally {
    stop.removeEventListener("abort", onStop);
    // A source stopped mid-wait finishes its pending value first; its cleanup runs after that,
    // and the client hears "stopped" (and may reuse the id) once it has.
    if (!finished) await Promise.resolve(iterator.return?.()).catch(() => {});
  }
}
