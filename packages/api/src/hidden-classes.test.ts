/**
 * What the server builds per connection and per message keeps one hidden class. On Node 20 a
 * spread followed by a new key (`{ ...services, user }`, `{ ...message, seq }`) gave every
 * object a class of its own: a few microseconds and old-generation garbage each time, and
 * megamorphic property reads wherever they were used (docs/performance.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MessageEvent, topics } from "./bus/event-bus.ts";
import { createContext } from "./context.ts";
import { createTestApp, sameHiddenClass } from "./testing.ts";

describe("hidden classes", () => {
  let app: Awaited<ReturnType<typeof createTestApp>>;
  beforeAll(async () => {
    app = await createTestApp("pglite");
  });
  afterAll(() => app[Symbol.asyncDispose]());

  it("gives every connection's context the same one", () => {
    const contexts = Array.from({ length: 50 }, (_, i) => createContext(app.services, app.tokenFor(`user${i}`)));
    expect(sameHiddenClass(contexts[48] as object, contexts[49] as object)).toBe(true);
  });

  it("gives every message event the same one", async () => {
    const { conversation } = await app.openConversation();
    const events: MessageEvent[] = [];
    const subscription = app.bus.subscribe(topics.messages(conversation.id), (event) => events.push(event));
    await subscription.ready;
    const seeker = app.as("seeker");
    for (let i = 0; i < 40; i++) await seeker.chat.sendMessage({ conversationId: conversation.id, content: `hi ${i}` });
    subscription.unsubscribe();
    expect(events).toHaveLength(40);
    expect(sameHiddenClass(events[38] as object, events[39] as object)).toBe(true);
  });
});
