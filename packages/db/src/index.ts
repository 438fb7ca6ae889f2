export type { Attachment, Conversation, JobRequest, Message, Offer, User } from "./generated/client.ts";
export { Prisma, PrismaClient } from "./generated/client.ts";
export { JobRequestStatus, OfferStatus } from "./generated/enums.ts";
export { type Database, type DatabaseLocation, type DatabaseOptions, openDatabase } from "./open-database.ts";
