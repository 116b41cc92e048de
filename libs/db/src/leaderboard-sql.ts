// The leaderboard's data: succeeded trials grouped by configuration in SQL (the interval and the
// ranking are the API's), and the trials of configurations stopped early (pruned or paused, no
// seed finished), which the leaderboard lists below its ranking.
import { Prisma } from './generated/client.ts';
import type { StoreContext } from './store-context.ts';

/** A succeeded seed kept out of its configuration's aggregate, and why (Trial.flag). */
export interface FlaggedSeed {
  trialId: string;
  seed: number;
  validPpl: number;
  testPpl: number;
  flag: string;
}

/** The succeeded trials of one configuration (sweep, config key), in seed order; flagged ones apart. */
export interface LeaderboardGroup {
  sweepId: string;
  configKey: string;
  config: unknown;
  method: string;
  params: number;
  seeds: number[];
  trialIds: string[];
  validPpl: number[];
  testPpl: number[];
  flagged: FlaggedSeed[];
}

export interface LeaderboardRow {
  id: string;
  sweepId: string;
  configKey: string;
  config: unknown;
  method: string;
  seed: number;
  params: number;
  validPpl: number;
  testPpl: number;
  flag?: string | null;
}

/**
 * Succeeded trials grouped by configuration (sweep, config key), in the database: one row per
 * configuration with its seeds, trial ids and perplexities in seed order (the interval and the
 * ranking happen in the API). A configuration's config is read once, not once per trial.
 */
export async function leaderboardGroups(ctx: StoreContext, q: { sweepId?: string | undefined } = {}): Promise<LeaderboardGroup[]> {
  const ok = Prisma.sql`FILTER (WHERE flag IS NULL)`;
  const rows = await ctx.prisma.$queryRaw<(Omit<LeaderboardGroup, 'validPpl' | 'testPpl'> & { validPpl: number[]; testPpl: number[] })[]>`
    WITH g AS (
      SELECT "sweepId", "configKey", min(method) AS method, min(params) ${ok} ::int AS params,
        array_agg(seed ORDER BY seed, id) ${ok} AS seeds, array_agg(id ORDER BY seed, id) ${ok} AS "trialIds",
        array_agg("validPpl" ORDER BY seed, id) ${ok} AS "validPpl", array_agg("testPpl" ORDER BY seed, id) ${ok} AS "testPpl",
        coalesce(json_agg(json_build_object('trialId', id, 'seed', seed, 'validPpl', "validPpl", 'testPpl', "testPpl", 'flag', flag) ORDER BY seed, id)
          FILTER (WHERE flag IS NOT NULL), '[]'::json) AS flagged,
        min(id) AS first
      FROM "Trial"
      WHERE status = 'succeeded' AND params IS NOT NULL AND "validPpl" IS NOT NULL AND "testPpl" IS NOT NULL
        ${q.sweepId ? Prisma.sql`AND "sweepId" = ${q.sweepId}` : Prisma.empty}
      GROUP BY "sweepId", "configKey"
      HAVING count(*) ${ok} > 0
    )
    SELECT g."sweepId", g."configKey", g.method, g.params, g.seeds, g."trialIds", g."validPpl", g."testPpl", g.flagged, t.config
    FROM g JOIN "Trial" t ON t.id = g.first
    ORDER BY g."sweepId", g."configKey"`;
  return rows.map((r) => ({ ...r, validPpl: r.validPpl.map(Number), testPpl: r.testPpl.map(Number), seeds: r.seeds.map(Number) }));
}

/** A trial of a configuration stopped early (StoppedRow): where it stopped and its last value. */
export interface StoppedRow {
  id: string;
  sweepId: string;
  configKey: string;
  config: unknown;
  method: string;
  seed: number;
  status: 'pruned' | 'paused';
  /** Steps trained when it stopped (or paused). */
  steps: number | null;
  /** The highest ASHA rung it was judged at (null for the median pruner). */
  rung: number | null;
  /** Its last validation value (NaN for a diverged one). */
  validPpl: number | null;
  /** Times it was resumed before it stopped. */
  promotions: number;
  /** The verdict that stopped or paused it (protocol PruneVerdict). */
  verdict: unknown;
}

/**
 * The pruned and paused trials of configurations stopped early: no seed succeeded, none is queued
 * or running, and at least one was pruned or is paused (failed and cancelled seeds count neither
 * way). Configurations that finished a seed are the ranking's (leaderboardGroups); these have no
 * final result, only where they stopped. In (sweep, config key, seed) order.
 */
export async function stoppedRows(ctx: StoreContext, q: { sweepId?: string | undefined } = {}): Promise<StoppedRow[]> {
  const rows = await ctx.prisma.$queryRaw<(Omit<StoppedRow, 'validPpl'> & { validPpl: number | string | null })[]>`
    WITH c AS (
      SELECT "sweepId", "configKey" FROM "Trial"
      WHERE status IN ('pruned', 'paused') ${q.sweepId ? Prisma.sql`AND "sweepId" = ${q.sweepId}` : Prisma.empty}
      GROUP BY 1, 2
    )
    SELECT t.id, t."sweepId", t."configKey", t.config, t.method, t.seed, t.status::text AS status, t.steps, t.rung, t."validPpl", t.promotions, t.verdict
    FROM "Trial" t JOIN c ON c."sweepId" = t."sweepId" AND c."configKey" = t."configKey"
    WHERE t.status IN ('pruned', 'paused')
      AND NOT EXISTS (SELECT 1 FROM "Trial" x WHERE x."sweepId" = t."sweepId" AND x."configKey" = t."configKey" AND x.status IN ('succeeded', 'queued', 'running'))
    ORDER BY t."sweepId", t."configKey", t.seed, t.id`;
  return rows.map((r) => ({ ...r, validPpl: r.validPpl === null ? null : Number(r.validPpl) }));
}
