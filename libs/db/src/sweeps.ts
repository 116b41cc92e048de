// Sweeps: creation with their trials, lists with counts per status, cancellation, and the end of a
// sweep (a trial whose baseline failed fails with it; a sweep finishes once nothing is queued or
// running).
import type { TrialPlan } from '@lmsweep/protocol';
import { Prisma, type Sweep } from './generated/client.ts';
import { CHANGES_CHANNEL } from './database.ts';
import { newId } from './ids.ts';
import { changeJson, MAX_PAGE, notifySql, type StoreContext, ts } from './store-context.ts';
import { currentRound } from './queue-order.ts';

export type TrialStatus = 'queued' | 'running' | 'paused' | 'succeeded' | 'pruned' | 'failed' | 'cancelled';
export type SweepStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export const TRIAL_STATUSES: readonly TrialStatus[] = ['queued', 'running', 'paused', 'succeeded', 'pruned', 'failed', 'cancelled'];

export type StatusCounts = Record<TrialStatus, number> & { total: number };
export type SweepWithCounts = Sweep & { counts: StatusCounts };

export interface CreateSweepInput {
  name: string;
  /** The parsed spec (stored as JSON). */
  spec: unknown;
  /** The spec as the user wrote it. */
  specText: string;
  plans: TrialPlan[];
  id?: string;
  /**
   * Its trials are planned while it runs (appendPlans): nothing but the growth step's decision
   * (appendPlans with `done`) ends it, not its last trial finishing (refreshSweepStatus).
   */
  grows?: boolean;
  /** A sampled sweep's search state after its first choices (Sweep.search). */
  search?: unknown;
}

function emptyCounts(): StatusCounts {
  return { queued: 0, running: 0, paused: 0, succeeded: 0, pruned: 0, failed: 0, cancelled: 0, total: 0 };
}

/**
 * Creates a running sweep and queues its trials (one transaction; trials by createMany), in plan
 * order from the queue's current round (queue-order.ts: it takes turns with the sweeps already
 * running). Each plan's parentOrdinal must be the ordinal of another of the plans (refused before
 * anything is written, naming the plan: a trial without its baseline would start from nothing).
 */
export async function createSweep(ctx: StoreContext, input: CreateSweepInput): Promise<Sweep> {
  const id = input.id ?? newId('s');
  const now = ctx.now();
  const ids = new Map(input.plans.map((p) => [p.ordinal, newId('t')]));
  input.plans.forEach((p, i) => {
    if (p.parentOrdinal !== undefined && (p.parentOrdinal === p.ordinal || !ids.has(p.parentOrdinal))) throw new Error(`plans[${i}].parentOrdinal: no other plan of this sweep has ordinal ${p.parentOrdinal}`);
  });
  const round = await currentRound(ctx.prisma);
  const [sweep] = await ctx.prisma.$transaction([
    ctx.prisma.sweep.create({
      data: { id, name: input.name, spec: input.spec as Prisma.InputJsonValue, specText: input.specText, grows: input.grows ?? false, ...(input.search === undefined ? {} : { search: input.search as Prisma.InputJsonValue }), createdAt: now },
    }),
    ctx.prisma.trial.createMany({
      data: input.plans.map((p, i) => ({
        id: ids.get(p.ordinal)!,
        parentId: p.parentOrdinal === undefined ? null : ids.get(p.parentOrdinal)!,
        sweepId: id,
        ordinal: p.ordinal,
        configKey: p.configKey,
        config: p.config as unknown as Prisma.InputJsonValue,
        method: p.method,
        seed: p.seed,
        maxAttempts: p.maxAttempts,
        queueRound: round + i,
        createdAt: now,
      })),
    }),
    ctx.prisma.$queryRaw(notifySql({ kind: 'sweep', id, status: 'running' })),
  ]);
  await analyzeAfter(ctx, input.plans.length);
  return sweep;
}

/** Trials added at once from which the table's statistics are refreshed (see analyzeAfter). */
export const ANALYZE_AFTER_TRIALS = 1000;

/**
 * Refreshes the planner's statistics of the trial and sweep tables after many trials were added:
 * without them (PGlite never gathers any by itself; a server's autovacuum comes later) the claim's
 * planner guesses a handful of queued trials of running sweeps and sorts them all instead of
 * reading the queue order's index (measured at 20,000 queued on PGlite: 30–50 ms for a claim of
 * 100 instead of 0.5–5).
 */
export async function analyzeAfter(ctx: StoreContext, added: number): Promise<void> {
  if (added >= ANALYZE_AFTER_TRIALS) await ctx.prisma.$executeRawUnsafe('ANALYZE "Trial", "Sweep"');
}

export async function listSweeps(ctx: StoreContext, q: { limit?: number; offset?: number } = {}): Promise<{ items: SweepWithCounts[]; total: number }> {
  const [rows, total] = await Promise.all([
    ctx.prisma.sweep.findMany({
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: Math.min(q.limit ?? 50, MAX_PAGE),
      skip: q.offset ?? 0,
    }),
    ctx.prisma.sweep.count(),
  ]);
  const counts = await countsBySweep(ctx, rows.map((r) => r.id));
  return { items: rows.map((r) => ({ ...r, counts: counts.get(r.id) ?? emptyCounts() })), total };
}

export async function getSweep(ctx: StoreContext, id: string): Promise<SweepWithCounts | null> {
  const sweep = await ctx.prisma.sweep.findUnique({ where: { id } });
  if (!sweep) return null;
  const counts = await countsBySweep(ctx, [id]);
  return { ...sweep, counts: counts.get(id) ?? emptyCounts() };
}

async function countsBySweep(ctx: StoreContext, ids: string[]): Promise<Map<string, StatusCounts>> {
  const out = new Map<string, StatusCounts>();
  if (!ids.length) return out;
  const groups = await ctx.prisma.trial.groupBy({ by: ['sweepId', 'status'], where: { sweepId: { in: ids } }, _count: { _all: true } });
  for (const g of groups) {
    const c = out.get(g.sweepId) ?? emptyCounts();
    c[g.status] += g._count._all;
    c.total += g._count._all;
    out.set(g.sweepId, c);
  }
  return out;
}

/**
 * Cancels a running sweep: its queued, running and paused trials become cancelled (one statement, row
 * locks). Returns the trials that were running, so the coordinator can tell their workers to
 * stop; each of those also gets a `trial` change with status cancelled, the sweep a `sweep` change
 * (queued trials get none: one refetch covers them). The sweep's row is locked first (as
 * appendPlans locks it), so trials appended just before are cancelled too.
 */
export async function cancelSweep(ctx: StoreContext, sweepId: string): Promise<{ cancelled: number; running: { id: string; attempt: number; leaseOwner: string | null }[] }> {
  const now = ctx.now();
  const [, rows] = await ctx.prisma.$transaction([
    lockSweep(ctx, sweepId),
    ctx.prisma.$queryRaw<{ id: string; attempt: number; leaseOwner: string | null; prev: string }[]>`
      WITH s AS (
        UPDATE "Sweep" SET status = 'cancelled', "finishedAt" = ${ts(now)}
        WHERE id = ${sweepId} AND status = 'running'
        RETURNING id
      ), locked AS (
        SELECT id, "sweepId", attempt, "leaseOwner", status FROM "Trial"
        WHERE "sweepId" = ${sweepId} AND status IN ('queued', 'running', 'paused')
        FOR UPDATE
      ), u AS (
        UPDATE "Trial" t SET status = 'cancelled', "finishedAt" = ${ts(now)}, "leaseExpiresAt" = NULL, "notBefore" = NULL
        FROM locked l WHERE t.id = l.id
        RETURNING t.id, t."sweepId", l.attempt, l."leaseOwner", l.status::text AS prev
      ), w AS (
        UPDATE "Worker" SET "currentTrialId" = NULL, progress = NULL FROM u WHERE "Worker"."currentTrialId" = u.id
      )
      SELECT u.id, u.attempt, u."leaseOwner", u.prev FROM u
      LEFT JOIN LATERAL (
        SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 'u', Prisma.sql`'cancelled'`)}) WHERE u.prev = 'running'
      ) n ON true`,
    ctx.prisma.$queryRaw(notifySql({ kind: 'sweep', id: sweepId, status: 'cancelled' })),
  ]);
  const running = rows.filter((r) => r.prev === 'running').map((r) => ({ id: r.id, attempt: r.attempt, leaseOwner: r.leaseOwner }));
  return { cancelled: rows.length, running };
}

/**
 * Locks a sweep's row (the first statement of a transaction that reads its trials): it waits for
 * an appendPlans under way, and the statements after it see the trials that one added (each
 * statement reads what was committed before it began).
 */
function lockSweep(ctx: StoreContext, sweepId: string) {
  return ctx.prisma.$queryRaw<{ id: string }[]>`SELECT id FROM "Sweep" WHERE id = ${sweepId} FOR UPDATE`;
}

/** Queued trials whose baseline failed for good can never start: they fail with it, naming it. */
export async function failOrphans(ctx: StoreContext, sweepId: string): Promise<void> {
  await ctx.prisma.$queryRaw`
    WITH f AS (
      UPDATE "Trial" c SET status = 'failed', "finishedAt" = ${ts(ctx.now())}, "notBefore" = NULL,
        error = format('its baseline trial %s (#%s) failed: %s', p.id, p.ordinal, coalesce(p.error, 'no reason given'))
      FROM "Trial" p
      WHERE c."sweepId" = ${sweepId} AND c."parentId" = p.id AND c.status = 'queued' AND p.status = 'failed'
      RETURNING c.id, c."sweepId"
    )
    SELECT count(*)::int AS n FROM f CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 'f', Prisma.sql`'failed'`)})) x`;
}

/**
 * Finishes a running sweep once none of its trials is queued, running or paused: failed when no trial
 * succeeded and at least one failed, else succeeded. Returns the new status, or null when
 * nothing changed (still running, already finished, or no such sweep). complete/fail/reapExpired
 * call it themselves. A sweep that grows is left running (its growth step ends it: appendPlans);
 * the sweep's row is locked first, so trials appended meanwhile keep it running.
 */
export async function refreshSweepStatus(ctx: StoreContext, sweepId: string): Promise<'succeeded' | 'failed' | null> {
  const [, rows] = await ctx.prisma.$transaction([lockSweep(ctx, sweepId), finishSweepQuery(ctx, ctx.prisma, sweepId)]);
  return rows[0]?.status ?? null;
}

/**
 * refreshSweepStatus inside a transaction that holds the sweep's lock already (a prune decision
 * that ended a trial): one statement, not a transaction of its own.
 */
export async function finishSweepIfDone(ctx: StoreContext, tx: Prisma.TransactionClient, sweepId: string): Promise<'succeeded' | 'failed' | null> {
  return (await finishSweepQuery(ctx, tx, sweepId))[0]?.status ?? null;
}

function finishSweepQuery(ctx: StoreContext, db: Prisma.TransactionClient, sweepId: string) {
  return db.$queryRaw<{ id: string; status: 'succeeded' | 'failed' }[]>`
    WITH done AS (
      UPDATE "Sweep" s SET
        status = CASE
          WHEN NOT EXISTS (SELECT 1 FROM "Trial" x WHERE x."sweepId" = s.id AND x.status = 'succeeded')
           AND EXISTS (SELECT 1 FROM "Trial" x WHERE x."sweepId" = s.id AND x.status = 'failed')
          THEN 'failed' ELSE 'succeeded' END::"SweepStatus",
        "finishedAt" = ${ts(ctx.now())}
      WHERE s.id = ${sweepId} AND s.status = 'running' AND NOT s.grows
        AND NOT EXISTS (SELECT 1 FROM "Trial" x WHERE x."sweepId" = s.id AND x.status IN ('queued', 'running', 'paused'))
      RETURNING s.id, s.status::text AS status
    )
    SELECT d.id, d.status FROM done d
    CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, json_build_object('kind', 'sweep', 'id', d.id, 'status', d.status)::text)) n`;
}
