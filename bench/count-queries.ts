import pg from "pg";

/**
 * Counts the statements this process sends to PostgreSQL, by wrapping node-postgres' one entry
 * point (Prisma's pg adapter and the baseline both go through it). Import it before the server.
 */
let count = 0;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  count++;
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

export const queriesSent = () => count;
