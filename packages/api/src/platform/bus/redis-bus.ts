import { Redis, type RedisOptions } from "ioredis";
import { transformer } from "../../transformer.ts";
import type { EventBus } from "./event-bus.ts";

export interface RedisBusOptions {
  url: string;
  /** Prepended to every channel, so several deployments can share one Redis. */
  prefix?: string;
  /** Told about connection trouble; the bus keeps reconnecting on its own. */
  onError?: (error: unknown) => void;
}

interface Channel {
  listeners: Set<(event: unknown) => void>;
  onMissed: Set<() => void>;
  /** Settles once Redis confirmed the SUBSCRIBE. */
  subscribed: Promise<void>;
}

/**
 * The bus for several server processes: Redis pub/sub, one connection publishing and one
 * subscribed, with one Redis subscription per topic however many local subscribers share it.
 * Payloads go through superjson (written by `transformer`) so Dates survive the trip.
 * Pub/sub is fire-and-forget: while Redis is away, publishing fails (the caller decides what
 * that means) and subscribers are told, once it is back, that they may have missed events.
 */
export async function createRedisBus({ url, prefix = "naafe:", onError }: RedisBusOptions): Promise<EventBus> {
  const common: RedisOptions = {
    lazyConnect: true,
    // Reconnect for ever, quickly at first, then every two seconds.
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  };
  // Fail fast while disconnected instead of queueing stale events: catch-up closes the gap.
  // The events of one tick (a batch of messages, three topics each) leave in one write.
  const publisher = new Redis(url, {
    ...common,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
  });
  const subscriber = new Redis(url, { ...common, autoResubscribe: true, maxRetriesPerRequest: null });
  const report = (error: unknown) => onError?.(error);
  publisher.on("error", report);
  subscriber.on("error", report);

  const channels = new Map<string, Channel>();

  subscriber.on("message", (name: string, payload: string) => {
    const channel = channels.get(name);
    if (!channel) return;
    let event: unknown;
    try {
      event = transformer.deserialize(JSON.parse(payload));
    } catch (error) {
      return report(error);
    }
    for (const listener of channel.listeners) listener(event);
  });

  let connectedBefore = false;
  subscriber.on("ready", () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    // ioredis re-subscribes right after "ready"; a PING answered after those SUBSCRIBEs
    // proves they are live, and only then is re-reading the database gap-free.
    setImmediate(() => {
      subscriber.ping().then(() => {
        for (const channel of channels.values()) for (const onMissed of channel.onMissed) onMissed();
      }, report);
    });
  });

  await Promise.all([publisher.connect(), subscriber.connect()]);

  function subscribeChannel(name: string): Promise<void> {
    // While disconnected the SUBSCRIBE waits in ioredis' queue; waiting for it would stall
    // the subscriber's backlog read, and the reconnect reports missed events anyway.
    if (subscriber.status !== "ready") {
      subscriber.subscribe(name).catch(report);
      return Promise.resolve();
    }
    return subscriber.subscribe(name).then(
      () => {},
      (error: unknown) => report(error),
    );
  }

  return {
    async publish(topic, event) {
      await publisher.publish(prefix + topic.name, JSON.stringify(transformer.serialize(event)));
    },

    subscribe(topic, listener, onMissed) {
      const name = prefix + topic.name;
      let channel = channels.get(name);
      if (!channel) {
        channel = { listeners: new Set(), onMissed: new Set(), subscribed: subscribeChannel(name) };
        channels.set(name, channel);
      }
      // A fresh function per subscription, so subscribing one listener twice needs two unsubscribes.
      const handler = (event: unknown) => listener(event as Parameters<typeof listener>[0]);
      channel.listeners.add(handler);
      if (onMissed) channel.onMissed.add(onMissed);
      const joined = channel;
      let done = false;
      return {
        ready: joined.subscribed,
        unsubscribe() {
          if (done) return;
          done = true;
          joined.listeners.delete(handler);
          if (onMissed) joined.onMissed.delete(onMissed);
          if (joined.listeners.size > 0 || channels.get(name) !== joined) return;
          channels.delete(name);
          subscriber.unsubscribe(name).catch(report);
        },
      };
    },

    async close() {
      channels.clear();
      await Promise.all([quitRedis(publisher), quitRedis(subscriber)]);
    },
  };
}

/**
 * Ends a connection: politely (QUIT, so Redis sees a clean close) while Redis answers, at
 * once while it does not, since QUIT would then wait in the offline queue forever and hold
 * a shutting-down server with it.
 */
export async function quitRedis(redis: Redis) {
  if (redis.status === "ready") await redis.quit().catch(() => {});
  redis.disconnect();
}
