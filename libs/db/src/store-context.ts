// What every part of the trial store shares: the database and the store's options (one context,
// built by TrialStore), and the SQL pieces its statements are made of: timestamps, and the
// NOTIFY on `lmsweep_changes` every write sends in its own statement or transaction (see Change).
import { Prisma, type PrismaClient } from './generated/client.ts';
import { CHANGES_CHANNEL, type Change } from './database.ts';
import type { DbLogger } from './logger.ts';

export interface StoreContext {
  readonly prisma: PrismaClient;
  /** The clock for every timestamp the store writes or compares. */
  readonly now: () => Date;
  /** The retry backoff: base · 2^(attempt-1) ms, capped (protocol's retryBackoffMs). */
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  /** A worker not seen for longer than this is shown as disconnected. */
  readonly staleWorkerMs: number;
  readonly log: DbLogger | undefined;
}

/** The most rows one page of a list may ask for. */
export const MAX_PAGE = 10_000;

export const ts = (d: Date) => Prisma.sql`${d}::timestamp(3)`;

export function notifySql(c: Change) {
  return Prisma.sql`SELECT pg_notify(${CHANGES_CHANNEL}, ${JSON.stringify(c)})::text AS n`;
}

/** `json_build_object(...)::text` for a Change built from SQL expressions (table alias `alias`). */
export function changeJson(kind: Change['kind'], alias: string, status: Prisma.Sql) {
  return Prisma.sql`json_build_object('kind', ${kind}::text, 'id', ${Prisma.raw(alias)}.id, 'sweepId', ${Prisma.raw(alias)}."sweepId", 'status', ${status})::text`;
}
