import { describe, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type { AttachmentView } from "../attachments/service.ts";
import type { ModerationService } from "../moderation/service.ts";
import type { viewContent } from "../moderation/views.ts";
import type { Conversations } from "./conversations.ts";
import type { Messages } from "./messages.ts";
import type {
  conversationsOutput,
  conversationView,
  messagesOutput,
  messageView,
  sentMessageOutput,
  unreadCountOutput,
} from "./schemas.ts";

type Flat<T> = { [K in keyof T]: T[K] };
type MessageType = "text" | "image" | "file" | "system";
/** What the router adds to a service's message: its type and attachments (attachments/service.ts). */
type WithAttachments<T> = Flat<Omit<T, "type" | "attachments"> & { type: MessageType; attachments: AttachmentView[] }>;
type Conversation = Awaited<ReturnType<Conversations["get"]>>;
type ConversationWithAttachments = Flat<
  Omit<Conversation, "lastMessage"> & { lastMessage: WithAttachments<NonNullable<Conversation["lastMessage"]>> | null }
>;

// tRPC strips what an output schema does not name: a field added to what a service returns but
// not to its schema would silently vanish from the answer (and from /openapi.json). These fail
// the type check instead.
describe("the output schemas", () => {
  it("name exactly what the services return", () => {
    type List = Awaited<ReturnType<Conversations["list"]>>;
    expectTypeOf<z.input<typeof conversationsOutput>>().toEqualTypeOf<
      Flat<Omit<List, "conversations"> & { conversations: ConversationWithAttachments[] }>
    >();
    expectTypeOf<z.input<typeof conversationView>>().toEqualTypeOf<ConversationWithAttachments>();
    expectTypeOf<z.input<typeof unreadCountOutput>>().toEqualTypeOf<
      Awaited<ReturnType<Conversations["unreadCount"]>>
    >();
    expectTypeOf<z.input<typeof sentMessageOutput>>().toEqualTypeOf<
      WithAttachments<ReturnType<ModerationService["senderView"]>>
    >();
    type Page = Awaited<ReturnType<Messages["page"]>>;
    expectTypeOf<Omit<z.input<typeof messagesOutput>, "messages">>().toEqualTypeOf<Omit<Page, "messages">>();
    // `chat.messages` answers each row of the page with moderation's view of its content.
    type Row = Page["messages"][number];
    type Viewed = Omit<Row, keyof ReturnType<typeof viewContent>> & ReturnType<typeof viewContent>;
    expectTypeOf<z.input<typeof messageView>>().toEqualTypeOf<WithAttachments<Viewed>>();
  });
});
