import { signToken } from "../auth.ts";
import { TEST_SECRET } from "../testing.ts";

/** A token with the moderator claim, signed like the app's. */
export const moderatorToken = (id = "mod-1") => signToken({ secret: TEST_SECRET }, { id, role: "moderator" });

/** A token carrying contact claims, as a marketplace profile would. */
export const tokenWithContact = (id: string, name: string, phone?: string, email?: string) =>
  signToken({ secret: TEST_SECRET }, { id, name, ...(phone ? { phone } : {}), ...(email ? { email } : {}) });

/** A subscription read event by event, failing instead of hanging when nothing comes. */
export async function reader<T>(start: (signal: AbortSignal) => Promise<AsyncIterable<T>>) {
  const controller = new AbortController();
  const iterator = (await start(controller.signal))[Symbol.asyncIterator]();
  return {
    async next(timeoutMs = 5_000): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
      });
      const result = await Promise.race([iterator.next(), timeout]).finally(() => clearTimeout(timer));
      if (result.done) throw new Error("subscription ended");
      return result.value;
    },
    stop: () => controller.abort(),
  };
}

/** createCaller hands out tracked events as `[id, data]`. */
export const trackedData = <T>(event: unknown) => (event as [string, T])[1];
export const trackedId = (event: unknown) => (event as [string, unknown])[0];

/** A clock tests move by hand. */
export function manualClock(start = Date.now()) {
  let at = start;
  return { now: () => new Date(at), advance: (ms: number) => (at += ms) };
}
