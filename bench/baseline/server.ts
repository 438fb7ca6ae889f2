/**
 * The yardstick: the same insert-and-forward work as our server with nothing else. Plain `ws`
 * and plain `pg`, JSON frames, no tRPC, no Prisma, no input validation. It keeps what any chat
 * server needs to be comparable: a JWT checked once per connection, the participants lookup
 * (cached, as ours is), the very same single-statement insert, and rooms in memory.
 * PostgreSQL only (DATABASE_URL); the tables come from our own migrations.
 *
 * Protocol (client → server): {t:"sub", c, after?, echo?} · {t:"send", id, c, content, cm}
 * (server → client): {t:"subok", c} · {t:"ack", id, seq} · {t:"err", id?, message} · {t:"msg", …event}
 */
import { randomUUID } from "node:crypto";
import "../count-queries.ts";
import jwt from "jsonwebtoken";
import pg from "pg";
import { type WebSocket, WebSocketServer } from "ws";
import { migrate } from "../../packages/db/src/migrate.ts";
import { answerRunner } from "../ipc-server.ts";

const url = process.env["DATABASE_URL"];
const secret = process.env["JWT_SECRET"];
if (!url || !secret) throw new Error("The baseline needs DATABASE_URL and JWT_SECRET.");

// The same pool size as our server's (node-postgres' default).
const pool = new pg.Pool({ connectionString: url, max: 10 });
await migrate(
  (sql) => pool.query(sql),
  async (sql, params) => (await pool.query(sql, params)).rows,
);

const SEND = `
  WITH conversation AS (
    UPDATE "Conversation" SET
      "messageCount" = "messageCount" + 1,
      "lastMessageContent" = $1,
      "lastMessageSenderId" = $2,
      "lastMessageTimestamp" = $3,
      "unreadCountSeeker" = "unreadCountSeeker" + (CASE WHEN "participantSeeker" = $4 THEN 1 ELSE 0 END),
      "unreadCountProvider" = "unreadCountProvider" + (CASE WHEN "participantProvider" = $4 THEN 1 ELSE 0 END),
      "updatedAt" = $3
    WHERE "id" = $5 AND "isActive"
    RETURNING "messageCount"
  )
  INSERT INTO "Message" ("id", "conversationId", "seq", "senderId", "receiverId", "content", "clientMessageId", "timestamp", "createdAt", "updatedAt")
  SELECT $6, $5, "messageCount", $2, $4, $1, $7, $3, $3, $3
  FROM conversation
  RETURNING "seq"`;

const participants = new Map<string, { seeker: string; provider: string }>();
async function otherParticipant(conversationId: string, userId: string) {
  let found = participants.get(conversationId);
  if (!found) {
    const { rows } = await pool.query<{ seeker: string; provider: string }>(
      `SELECT "participantSeeker" AS seeker, "participantProvider" AS provider FROM "Conversation" WHERE "id" = $1`,
      [conversationId],
    );
    found = rows[0];
    if (!found) return null;
    participants.set(conversationId, found);
  }
  if (found.seeker === userId) return found.provider;
  if (found.provider === userId) return found.seeker;
  return null;
}

const rooms = new Map<string, Set<WebSocket>>();

const wss = new WebSocketServer({
  host: process.env["HOST"] ?? "127.0.0.1",
  port: Number(process.env["PORT"] ?? 0),
  perMessageDeflate: false,
  maxPayload: 64 * 1024,
});

wss.on("connection", (socket, req) => {
  const token = new URL(req.url ?? "/", "http://x").searchParams.get("token") ?? "";
  let userId: string;
  try {
    const payload = jwt.verify(token, secret, { algorithms: ["HS256"] });
    if (typeof payload === "string" || !payload.sub) throw new Error("no sub");
    userId = payload.sub;
  } catch {
    socket.close(4401, "Your token is not valid.");
    return;
  }
  const joined = new Set<string>();
  // Conversations subscribed with echo: false, as ours offers: this socket's own sends are not sent back.
  const noEcho = new Set<string>();
  const reply = (frame: unknown) => socket.send(JSON.stringify(frame));

  socket.on("message", async (raw) => {
    const frame = JSON.parse(String(raw));
    try {
      if (frame.t === "send") {
        const receiverId = await otherParticipant(frame.c, userId);
        if (!receiverId) return reply({ t: "err", id: frame.id, message: "not a participant" });
        const id = randomUUID();
        const timestamp = new Date();
        const { rows } = await pool.query<{ seq: number }>(SEND, [
          frame.content,
          userId,
          timestamp,
          receiverId,
          frame.c,
          id,
          frame.cm ?? null,
        ]);
        const seq = rows[0]?.seq;
        if (seq === undefined) return reply({ t: "err", id: frame.id, message: "closed" });
        reply({ t: "ack", id: frame.id, seq });
        const event = JSON.stringify({
          t: "msg",
          messageId: id,
          conversationId: frame.c,
          seq,
          senderId: userId,
          receiverId,
          content: frame.content,
          timestamp,
          clientMessageId: frame.cm ?? null,
        });
        const skipSender = noEcho.has(frame.c);
        for (const member of rooms.get(frame.c) ?? []) if (member !== socket || !skipSender) member.send(event);
      } else if (frame.t === "sub") {
        if (!(await otherParticipant(frame.c, userId))) return reply({ t: "err", message: "not a participant" });
        if (frame.after) await backlog(frame.c, frame.after, reply);
        const room = rooms.get(frame.c) ?? new Set<WebSocket>();
        rooms.set(frame.c, room);
        room.add(socket);
        joined.add(frame.c);
        if (frame.echo === false) noEcho.add(frame.c);
        reply({ t: "subok", c: frame.c });
      }
    } catch (error) {
      reply({ t: "err", id: frame.id, message: String(error) });
    }
  });
  socket.on("close", () => {
    for (const conversationId of joined) rooms.get(conversationId)?.delete(socket);
  });
});

/** Stored messages after the one with id `after`, a page at a time (the same page size as ours). */
async function backlog(conversationId: string, after: string, reply: (frame: unknown) => void) {
  const { rows } = await pool.query<{ seq: number }>(
    `SELECT "seq" FROM "Message" WHERE "id" = $1 AND "conversationId" = $2`,
    [after, conversationId],
  );
  let seq = rows[0]?.seq ?? 0;
  for (;;) {
    const page = await pool.query(
      `SELECT * FROM "Message" WHERE "conversationId" = $1 AND "seq" > $2 ORDER BY "seq" LIMIT 500`,
      [conversationId, seq],
    );
    for (const message of page.rows) reply({ t: "msg", ...message });
    const last = page.rows.at(-1);
    if (!last || page.rows.length < 500) return;
    seq = last.seq;
  }
}

await new Promise<void>((resolve) => wss.once("listening", resolve));
const address = wss.address();
const port = typeof address === "object" && address ? address.port : 0;

answerRunner({
  sql: async (text, params) => (await pool.query(text, params)).rows,
  async stop() {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await pool.end();
  },
});
process.send?.({ type: "ready", url: `ws://127.0.0.1:${port}/`, store: "postgres" });
