// Results: metric points of an attempt, a trial's completion, and the flag on a seed too far below
// the other seeds of its configuration to be believed.
import type { MetricPoint, TrialResult } from '@lmsweep/protocol';
import { Prisma } from './generated/client.ts';
import { CHANGES_CHANNEL } from './database.ts';
import { changeJson, type StoreContext, ts } from './store-context.ts';
import { refreshSweepStatus } from './sweeps.ts';

export interface MetricReport {
  trialId: string;
  workerId: string;
  attempt: number;
  points: MetricPoint[];
}

export interface CompleteInput {
  trialId: string;
  workerId: string;
  attempt: number;
  result: TrialResult;
}

/** 'duplicate': already completed by the same attempt; 'lost': not this worker's lease; 'missing': its checkpoint is not stored. */
export type CompleteOutcome = 'ok' | 'duplicate' | 'lost' | 'missing';

/** A succeeded seed under this share of every other seed's perplexity is flagged (see flagImpossible). */
export const SUSPECT_PPL_RATIO = 0.5;

/**
 * Stores metric points of one attempt (NaN/±Infinity kept). Idempotent: a point already stored
 * for (trial, attempt, name, step) is ignored (ON CONFLICT DO NOTHING). False: the lease is lost
 * and nothing was stored.
 */
export async function addMetrics(ctx: StoreContext, trialId: string, workerId: string, attempt: number, points: MetricPoint[]): Promise<boolean> {
  return (await addMetricsMany(ctx, [{ trialId, workerId, attempt, points }]))[0]!;
}

/** addMetrics for several reports in one statement (a coordinator's group commit); one answer per report, in order. */
export async function addMetricsMany(ctx: StoreContext, reports: MetricReport[]): Promise<boolean[]> {
  if (reports.length === 0) return [];
  const rows = await ctx.prisma.$queryRaw<{ n: number | null; notified: number }[]>`
    WITH ${metricWrites(ctx, reports)}
    SELECT t.n, (SELECT count(*) FROM n)::int AS notified FROM t
    UNION ALL SELECT NULL, (SELECT count(*) FROM n)::int`;
  const ok = new Set(rows.map((r) => r.n).filter((n): n is number => n !== null));
  return reports.map((_, i) => ok.has(i + 1));
}

/**
 * The common table expressions that store reports' points (addMetricsMany; prune-store's judged
 * reports add their triage to the same statement): `t` holds the reports whose lease held (n: the
 * report's 1-based place, id, sweepId, attempt; their trial rows locked FOR SHARE), `n` notifies
 * the trials that got new points and runs only when the statement reads it.
 */
export function metricWrites(ctx: StoreContext, reports: MetricReport[]): Prisma.Sql {
  // Values travel as text so NaN/Infinity survive JSON; float8 parses 'NaN', 'Infinity', '-Infinity'.
  const req = JSON.stringify(reports.map((r, i) => ({ n: i + 1, trialId: r.trialId, worker: r.workerId, attempt: r.attempt })));
  const pts = JSON.stringify(reports.flatMap((r, i) => r.points.map((p) => ({ n: i + 1, step: p.step, epoch: p.epoch, name: p.name, value: String(p.value) }))));
  return Prisma.sql`req AS (
      SELECT * FROM jsonb_to_recordset(${req}::jsonb) AS r(n int, "trialId" text, worker text, attempt int)
    ), t AS (
      SELECT req.n, tr.id, tr."sweepId", tr.attempt FROM req JOIN "Trial" tr
        ON tr.id = req."trialId" AND tr."leaseOwner" = req.worker AND tr.attempt = req.attempt AND tr.status = 'running'
      FOR SHARE OF tr
    ), ins AS (
      INSERT INTO "TrialMetric" ("trialId", attempt, step, epoch, name, value, time)
      SELECT DISTINCT ON (t.id, t.attempt, x.name, x.step) t.id, t.attempt, x.step, x.epoch, x.name, x.value::float8, ${ts(ctx.now())}
      FROM t JOIN jsonb_to_recordset(${pts}::jsonb) AS x(n int, step int, epoch float8, name text, value text) ON x.n = t.n
      ON CONFLICT ("trialId", attempt, name, step) DO NOTHING
      RETURNING "trialId"
    ), n AS (
      SELECT pg_notify(${CHANGES_CHANNEL}, json_build_object('kind', 'metric', 'id', z.id, 'sweepId', z."sweepId")::text)
      FROM (SELECT DISTINCT t.id, t."sweepId" FROM t WHERE EXISTS (SELECT 1 FROM ins WHERE ins."trialId" = t.id)) z
    )`;
}

/**
 * Records the result. 'duplicate': this worker's same attempt already completed it (a resent
 * message; nothing changes). 'lost': the lease is not this worker's any more. 'missing': other
 * trials depend on this one and this attempt stored no checkpoint (nothing changes).
 */
export async function complete(ctx: StoreContext, trialId: string, workerId: string, attempt: number, result: TrialResult): Promise<CompleteOutcome> {
  return (await completeMany(ctx, [{ trialId, workerId, attempt, result }]))[0]!;
}

/** complete() for several results in one statement (a coordinator's group commit); one outcome per result, in order. */
export async function completeMany(ctx: StoreContext, items: CompleteInput[]): Promise<CompleteOutcome[]> {
  if (items.length === 0) return [];
  const now = ctx.now();
  const req = JSON.stringify(items.map((c, i) => ({ n: i + 1, trialId: c.trialId, worker: c.workerId, attempt: c.attempt, result: c.result })));
  const rows = await ctx.prisma.$queryRaw<{ n: number; id: string; sweepId: string }[]>`
    WITH req AS (
      SELECT * FROM jsonb_to_recordset(${req}::jsonb) AS r(n int, "trialId" text, worker text, attempt int, result jsonb)
    ), t AS (
      UPDATE "Trial" tr SET
        status = 'succeeded', "finishedAt" = ${ts(now)}, "leaseExpiresAt" = NULL, "notBefore" = NULL,
        progress = 1, error = NULL,
        params = (req.result->>'params')::int, "validPpl" = (req.result->>'validPpl')::float8, "testPpl" = (req.result->>'testPpl')::float8,
        seconds = (req.result->>'seconds')::float8, steps = (req.result->>'steps')::int, result = req.result, verdict = NULL
      FROM req
      WHERE tr.id = req."trialId" AND tr."leaseOwner" = req.worker AND tr.attempt = req.attempt AND tr.status = 'running'
        AND (NOT EXISTS (SELECT 1 FROM "Trial" k WHERE k."parentId" = tr.id)
          OR EXISTS (SELECT 1 FROM "Artifact" a WHERE a."trialId" = tr.id AND a.name = 'checkpoint' AND a.attempt = req.attempt))
      RETURNING req.n, tr.id, tr."sweepId", tr."leaseOwner"
    ), w AS (
      UPDATE "Worker" SET "currentTrialId" = NULL, progress = NULL, "lastHeartbeat" = ${ts(now)}
      FROM t WHERE "Worker".id = t."leaseOwner" AND "Worker"."currentTrialId" = t.id
    )
    SELECT t.n, t.id, t."sweepId" FROM t
    CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 't', Prisma.sql`'succeeded'`)})) x`;
  const out: (CompleteOutcome | undefined)[] = items.map(() => undefined);
  for (const r of rows) out[r.n - 1] = 'ok';
  const rest = items.map((c, i) => ({ c, i })).filter(({ i }) => out[i] === undefined);
  const duplicates: { id: string; sweepId: string }[] = [];
  if (rest.length) {
    const cur = await ctx.prisma.trial.findMany({ where: { id: { in: [...new Set(rest.map(({ c }) => c.trialId))] } }, select: { id: true, sweepId: true, status: true, leaseOwner: true, attempt: true } });
    const byId = new Map(cur.map((t) => [t.id, t]));
    for (const { c, i } of rest) {
      const t = byId.get(c.trialId);
      const mine = t && t.leaseOwner === c.workerId && t.attempt === c.attempt;
      out[i] = mine && t.status === 'running' ? 'missing' : mine && t.status === 'succeeded' ? 'duplicate' : 'lost';
      if (out[i] === 'duplicate') duplicates.push({ id: c.trialId, sweepId: t!.sweepId });
    }
  }
  // The UPDATE above commits on its own: if what follows failed on an earlier try (the group commit
  // then retries the items, which come back 'duplicate'), it runs again now. Both steps are idempotent.
  const done = [...rows, ...duplicates];
  if (done.length) await flagImpossible(ctx, done.map((r) => r.id));
  for (const sweepId of new Set(done.map((r) => r.sweepId))) await refreshSweepStatus(ctx, sweepId);
  return out as CompleteOutcome[];
}

/**
 * Flags, in the configurations of the given trials, a succeeded seed whose validation or test
 * perplexity is under SUSPECT_PPL_RATIO of every other seed's (fake or broken: seeds of one
 * configuration differ by percents) and, where the sweep has other configurations with results,
 * under SUSPECT_PPL_RATIO of their median too (a good seed whose siblings diverged is in line with
 * the rest of the sweep, and stays unflagged), or whose parameter count differs from the one more than half
 * of its (two or more) other seeds agree on (one configuration has one size), and clears a flag the
 * other seeds no longer support. Only a configuration's lowest seed can be so far below all the
 * others, and a majority's size is never the odd one, so seeds that agree stay unflagged. Returns
 * the trials whose flag changed.
 */
export async function flagImpossible(ctx: StoreContext, trialIds: string[]): Promise<{ id: string; flag: string | null }[]> {
  const rows = await ctx.prisma.$queryRaw<{ id: string; flag: string | null }[]>`
    WITH cfg AS (
      SELECT DISTINCT "sweepId", "configKey" FROM "Trial" WHERE id IN (SELECT jsonb_array_elements_text(${JSON.stringify(trialIds)}::jsonb))
    ), mid AS (
      -- What the sweep's other configurations reach: the median of their unflagged succeeded seeds.
      SELECT cfg."sweepId", cfg."configKey",
        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY o."validPpl") FROM "Trial" o WHERE o."sweepId" = cfg."sweepId" AND o."configKey" <> cfg."configKey" AND o.status = 'succeeded' AND o.flag IS NULL AND o."validPpl" IS NOT NULL) AS "sweepV",
        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY o."testPpl") FROM "Trial" o WHERE o."sweepId" = cfg."sweepId" AND o."configKey" <> cfg."configKey" AND o.status = 'succeeded' AND o.flag IS NULL AND o."testPpl" IS NOT NULL) AS "sweepT"
      FROM cfg
    ), s AS (
      SELECT t.id, t.flag, t."validPpl" AS v, t."testPpl" AS te, t.params AS p, t."sweepId", t."configKey", mid."sweepV", mid."sweepT",
        min(t."validPpl") OVER w AS "otherV", min(t."testPpl") OVER w AS "otherT", count(*) OVER w AS others
      FROM "Trial" t JOIN cfg ON cfg."sweepId" = t."sweepId" AND cfg."configKey" = t."configKey"
      JOIN mid ON mid."sweepId" = t."sweepId" AND mid."configKey" = t."configKey"
      WHERE t.status = 'succeeded' AND t."validPpl" IS NOT NULL AND t."testPpl" IS NOT NULL AND t.params IS NOT NULL
      WINDOW w AS (PARTITION BY t."sweepId", t."configKey" ORDER BY t.id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW)
    ), pc AS (
      SELECT "sweepId", "configKey", p, count(*) AS n FROM s GROUP BY 1, 2, 3
    ), sm AS (
      -- A configuration has one parameter count: the value more than half of a seed's two or more others agree on, if not its own.
      SELECT s.*, (SELECT pc.p FROM pc WHERE pc."sweepId" = s."sweepId" AND pc."configKey" = s."configKey" AND pc.p <> s.p AND s.others >= 2 AND pc.n * 2 > s.others) AS "majorityP"
      FROM s
    ), f AS (
      SELECT id, flag AS old, CASE
        WHEN v < ${SUSPECT_PPL_RATIO}::float8 * "otherV" AND ("sweepV" IS NULL OR v < ${SUSPECT_PPL_RATIO}::float8 * "sweepV") THEN format('validPpl %s is under %s× every other seed of its configuration (the lowest of them: %s)%s', trim_scale(round(v::numeric, 4)), ${SUSPECT_PPL_RATIO}::float8, trim_scale(round("otherV"::numeric, 4)), CASE WHEN "sweepV" IS NOT NULL THEN format(' and the median of the sweep''s other configurations (%s)', trim_scale(round("sweepV"::numeric, 4))) ELSE '' END)
        WHEN te < ${SUSPECT_PPL_RATIO}::float8 * "otherT" AND ("sweepT" IS NULL OR te < ${SUSPECT_PPL_RATIO}::float8 * "sweepT") THEN format('testPpl %s is under %s× every other seed of its configuration (the lowest of them: %s)%s', trim_scale(round(te::numeric, 4)), ${SUSPECT_PPL_RATIO}::float8, trim_scale(round("otherT"::numeric, 4)), CASE WHEN "sweepT" IS NOT NULL THEN format(' and the median of the sweep''s other configurations (%s)', trim_scale(round("sweepT"::numeric, 4))) ELSE '' END)
        WHEN "majorityP" IS NOT NULL THEN format('params %s differ from most other seeds of its configuration (%s)', p, "majorityP")
        END AS flag
      FROM sm
    )
    UPDATE "Trial" t SET flag = f.flag FROM f WHERE t.id = f.id AND t.flag IS DISTINCT FROM f.flag
    RETURNING t.id, t.flag`;
  for (const r of rows) if (r.flag) ctx.log?.('warn', `trial ${r.id} flagged: ${r.flag}`, { trialId: r.id });
  return rows;
}
