// The trial queue: claims, heartbeats, failures, releases and the reaper of expired leases.
//
// Model (graphile-worker / pg-boss style):
// - claim is ONE statement: UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING …;
//   it increments `attempt`, so (leaseOwner, attempt) names one incarnation of a trial.
// - Every later write of a trial is fenced on leaseOwner = worker AND attempt = attempt AND
//   status = 'running'; zero rows means the lease was lost (reaped, cancelled, or reclaimed).
// - `attempt` counts claims and only grows (fencing tokens and per-attempt metric curves stay
//   unique). A trial may be claimed while attempt < maxAttempts. `release` (a worker giving a
//   trial back unfinished) requeues at once and raises maxAttempts by one, so it costs no attempt.
// - fail(retryable) and an expired lease requeue with notBefore = now + retryBackoffMs(attempt)
//   while attempts are left, else mark the trial failed with the reason.
// - After a trial is requeued or finished, leaseOwner keeps the worker of its last attempt (the
//   lease itself is gone: leaseExpiresAt is null); that is how a resent `complete` is recognised
//   as a duplicate, and how the reaper names the last worker.
// - Every write NOTIFYs `lmsweep_changes` in the same statement or transaction (see Change).
import { type AssignedTrial, retryBackoffMs } from '@lmsweep/protocol';
import { Prisma } from './generated/client.ts';
import { CHANGES_CHANNEL } from './database.ts';
import { changeJson, type StoreContext, ts } from './store-context.ts';
import { failOrphans, refreshSweepStatus } from './sweeps.ts';

/** What a worker is given by claim. */
export type ClaimedTrial = AssignedTrial;

export interface HeartbeatInput {
  trialId: string;
  workerId: string;
  attempt: number;
  progress: number;
}

export interface FailInput {
  kind: 'error' | 'diverged' | 'oom';
  error: string;
  retryable: boolean;
}

const MAX_ERROR_CHARS = 20_000;

function failureText(f: FailInput): string {
  const text = f.error.trim() || f.kind;
  const out = f.kind === 'error' || text.startsWith(f.kind) ? text : `${f.kind}: ${text}`;
  return out.length > MAX_ERROR_CHARS ? `${out.slice(0, MAX_ERROR_CHARS - 1)}…` : out;
}

/** The delay before a trial requeued after `attempt` may be claimed again. */
export function backoffMs(ctx: StoreContext, attempt: number): number {
  return retryBackoffMs(attempt, ctx.backoffBaseMs, ctx.backoffCapMs);
}

/**
 * Hands the first claimable trial in queue order (queue-order.ts: the running sweeps take turns;
 * sweep running; notBefore null or past) to `workerId` for `leaseMs`, in one atomic statement (SKIP LOCKED: concurrent
 * claimers never get the same trial and never wait on each other). A trial with a parent
 * (a compression trial) is claimable once its parent succeeded; it comes with the parent's
 * checkpoint digest, and a trial others depend on with saveCheckpoint. Also sets the worker's
 * currentTrialId. Null when nothing is claimable.
 */
export async function claim(ctx: StoreContext, workerId: string, leaseMs: number): Promise<ClaimedTrial | null> {
  return (await claimMany(ctx, [workerId], leaseMs))[0] ?? null;
}

/**
 * claim() for several workers in one statement (group commit: a coordinator collects the
 * claims that arrive while the previous statement runs). Returns one entry per worker, in
 * order: its trial, or null when there were fewer claimable trials than workers (the first
 * workers are served first). A worker id given twice gets two trials.
 */
export async function claimMany(ctx: StoreContext, workerIds: string[], leaseMs: number): Promise<(ClaimedTrial | null)[]> {
  if (workerIds.length === 0) return [];
  const now = ctx.now();
  const expires = new Date(now.getTime() + leaseMs);
  type Row = Omit<ClaimedTrial, 'parent' | 'saveCheckpoint' | 'judged' | 'resume'> & {
    n: number;
    parentId: string | null;
    parentSha256: string | null;
    parentBytes: number | null;
    saveCheckpoint: boolean;
    judged: boolean;
    resumeName: string | null;
    resumeStep: number | null;
    resumeSha256: string | null;
    resumeBytes: number | null;
  };
  const rows = await ctx.prisma.$queryRaw<Row[]>`
    WITH req AS (
      SELECT value AS worker, ordinality::int AS n FROM jsonb_array_elements_text(${JSON.stringify(workerIds)}::jsonb) WITH ORDINALITY
    ), locked AS (
      -- queue order through the partial index on queued trials (round-robin over sweeps: queue-order.ts)
      SELECT t.id, t."queueRound", t."queueSeq" FROM "Trial" t JOIN "Sweep" s ON s.id = t."sweepId"
      WHERE t.status = 'queued' AND s.status = 'running'
        AND (t."notBefore" IS NULL OR t."notBefore" <= ${ts(now)})
        AND (t."parentId" IS NULL OR EXISTS (SELECT 1 FROM "Trial" p WHERE p.id = t."parentId" AND p.status = 'succeeded'))
      ORDER BY t."queueRound", t."queueSeq"
      LIMIT ${workerIds.length}::int
      FOR UPDATE OF t SKIP LOCKED
    ), picked AS (
      SELECT l.id, req.worker, req.n FROM (SELECT id, row_number() OVER (ORDER BY "queueRound", "queueSeq")::int AS n FROM locked) l JOIN req ON req.n = l.n
    ), claimed AS (
      UPDATE "Trial" t SET
        status = 'running', attempt = t.attempt + 1, "leaseOwner" = picked.worker,
        "leaseExpiresAt" = ${ts(expires)}, "startedAt" = ${ts(now)}, "finishedAt" = NULL,
        "notBefore" = NULL, progress = 0, verdict = NULL
      FROM picked WHERE t.id = picked.id AND t.status = 'queued'
      RETURNING t.id, t."sweepId", t.attempt, t.seed, t.method, t.config, t."parentId", t."leaseOwner", t.segments, picked.n
    ), w AS (
      UPDATE "Worker" SET "currentTrialId" = claimed.id, progress = 0, "lastHeartbeat" = ${ts(now)}, connected = true
      FROM claimed WHERE "Worker".id = claimed."leaseOwner"
    )
    SELECT c.n, c.id, c."sweepId", c.attempt, c.seed, c.method, c.config, c."parentId", a.sha256 AS "parentSha256", a.size::float8 AS "parentBytes",
      EXISTS (SELECT 1 FROM "Trial" k WHERE k."parentId" = c.id) AS "saveCheckpoint",
      -- a pruned sweep's trial is judged, unless compression trials start from it (never pruned)
      (coalesce(s.spec->'pruner'->>'type', 'none') <> 'none' AND NOT EXISTS (SELECT 1 FROM "Trial" k WHERE k."parentId" = c.id)) AS judged,
      r.name AS "resumeName", (c.segments->-1->>'through')::int AS "resumeStep", r.sha256 AS "resumeSha256", r.size::float8 AS "resumeBytes"
    FROM claimed c
    JOIN "Sweep" s ON s.id = c."sweepId"
    LEFT JOIN "Artifact" a ON a."trialId" = c."parentId" AND a.name = 'checkpoint'
    -- a promoted trial resumes from the checkpoint of its last pause
    LEFT JOIN "Artifact" r ON r."trialId" = c.id AND jsonb_array_length(c.segments) > 0 AND r.name = 'resume-' || (c.segments->-1->>'attempt')
    CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 'c', Prisma.sql`'running'`)})) x`;
  const out: (ClaimedTrial | null)[] = workerIds.map(() => null);
  for (const r of rows) {
    const t: ClaimedTrial = { id: r.id, sweepId: r.sweepId, attempt: r.attempt, seed: r.seed, method: r.method, config: r.config };
    if (r.parentId && r.parentSha256) t.parent = { trialId: r.parentId, sha256: r.parentSha256, bytes: r.parentBytes! };
    if (r.saveCheckpoint) t.saveCheckpoint = true;
    if (r.judged) t.judged = true;
    if (r.resumeName && r.resumeSha256 && r.resumeStep !== null) t.resume = { name: r.resumeName, step: r.resumeStep, sha256: r.resumeSha256, bytes: r.resumeBytes! };
    out[r.n - 1] = t;
  }
  return out;
}

/** Extends the lease to now + leaseMs and records progress (also on the worker row). False: the lease is lost. */
export async function heartbeat(ctx: StoreContext, trialId: string, workerId: string, attempt: number, progress: number, leaseMs: number): Promise<boolean> {
  return (await heartbeatMany(ctx, [{ trialId, workerId, attempt, progress }], leaseMs))[0]!;
}

/**
 * heartbeat() for several leases in one statement (a coordinator's group commit); one answer
 * per beat, in order. Beats of the same lease in one batch count as one (the last one's
 * progress), and all of them get its answer.
 */
export async function heartbeatMany(ctx: StoreContext, beats: HeartbeatInput[], leaseMs: number): Promise<boolean[]> {
  if (beats.length === 0) return [];
  const now = ctx.now();
  const expires = new Date(now.getTime() + leaseMs);
  // One row per lease: an UPDATE … FROM with two matching rows would apply (and return) one.
  const keyOf = (b: HeartbeatInput) => `${b.trialId}\u0000${b.workerId}\u0000${b.attempt}`;
  const last = new Map<string, number>();
  beats.forEach((b, i) => last.set(keyOf(b), i));
  const req = JSON.stringify([...last.values()].map((i) => ({ n: i + 1, trialId: beats[i]!.trialId, worker: beats[i]!.workerId, attempt: beats[i]!.attempt, progress: beats[i]!.progress })));
  const rows = await ctx.prisma.$queryRaw<{ n: number }[]>`
    WITH req AS (
      SELECT * FROM jsonb_to_recordset(${req}::jsonb) AS r(n int, "trialId" text, worker text, attempt int, progress float8)
    ), t AS (
      UPDATE "Trial" tr SET "leaseExpiresAt" = ${ts(expires)}, progress = req.progress
      FROM req
      WHERE tr.id = req."trialId" AND tr."leaseOwner" = req.worker AND tr.attempt = req.attempt AND tr.status = 'running'
      RETURNING req.n, tr.id, tr."sweepId", req.worker, req.progress
    ), w AS (
      UPDATE "Worker" SET "lastHeartbeat" = ${ts(now)}, progress = t.progress, "currentTrialId" = t.id, connected = true
      FROM t WHERE "Worker".id = t.worker
    )
    SELECT t.n FROM t
    CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 't', Prisma.sql`'running'`)})) x`;
  const ok = new Set(rows.map((r) => r.n - 1));
  return beats.map((b) => ok.has(last.get(keyOf(b))!));
}

/**
 * A failed attempt. Retryable with attempts left: back to queued, claimable after
 * retryBackoffMs(attempt). Otherwise failed, with the error text (prefixed by the kind unless it
 * already says it, e.g. "diverged at step 12: loss is NaN").
 */
export async function fail(ctx: StoreContext, trialId: string, workerId: string, attempt: number, f: FailInput): Promise<'requeued' | 'failed' | 'lost'> {
  const now = ctx.now();
  const notBefore = new Date(now.getTime() + backoffMs(ctx, attempt));
  const retry = Prisma.sql`(${f.retryable}::boolean AND attempt < "maxAttempts")`;
  const rows = await ctx.prisma.$queryRaw<{ id: string; sweepId: string; status: 'queued' | 'failed' }[]>`
    WITH t AS (
      UPDATE "Trial" SET
        status = CASE WHEN ${retry} THEN 'queued' ELSE 'failed' END::"TrialStatus",
        "notBefore" = CASE WHEN ${retry} THEN ${ts(notBefore)} ELSE NULL END,
        "finishedAt" = CASE WHEN ${retry} THEN NULL ELSE ${ts(now)} END,
        "leaseExpiresAt" = NULL, progress = NULL, error = ${failureText(f)}
      WHERE id = ${trialId} AND "leaseOwner" = ${workerId} AND attempt = ${attempt}::int AND status = 'running'
      RETURNING id, "sweepId", status::text AS status
    ), w AS (
      UPDATE "Worker" SET "currentTrialId" = NULL, progress = NULL, "lastHeartbeat" = ${ts(now)}
      FROM t WHERE "Worker".id = ${workerId} AND "Worker"."currentTrialId" = t.id
    )
    SELECT t.id, t."sweepId", t.status FROM t
    CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 't', Prisma.sql`t.status`)})) n`;
  const row = rows[0];
  if (!row) return 'lost';
  if (row.status === 'failed') {
    await failOrphans(ctx, row.sweepId);
    await refreshSweepStatus(ctx, row.sweepId);
  }
  return row.status === 'queued' ? 'requeued' : 'failed';
}

/** The trials whose live lease `workerId` holds (running, not expired), oldest claim first. */
export async function leasesOf(ctx: StoreContext, workerId: string): Promise<{ id: string; attempt: number }[]> {
  return ctx.prisma.trial.findMany({
    where: { leaseOwner: workerId, status: 'running', leaseExpiresAt: { gt: ctx.now() } },
    select: { id: true, attempt: true },
    orderBy: { startedAt: 'asc' },
  });
}

/**
 * The worker gives the trial back unfinished (e.g. SIGINT): queued again at once, and
 * maxAttempts is raised by one so the release costs no attempt (attempt itself only grows,
 * keeping fencing tokens and metric curves unique). False: the lease was already lost.
 */
export async function release(ctx: StoreContext, trialId: string, workerId: string, attempt: number, reason: string): Promise<boolean> {
  const now = ctx.now();
  const rows = await ctx.prisma.$queryRaw<{ id: string }[]>`
    WITH t AS (
      UPDATE "Trial" SET status = 'queued', "maxAttempts" = "maxAttempts" + 1,
        "leaseExpiresAt" = NULL, "notBefore" = NULL, progress = NULL
      WHERE id = ${trialId} AND "leaseOwner" = ${workerId} AND attempt = ${attempt}::int AND status = 'running'
      RETURNING id, "sweepId"
    ), w AS (
      UPDATE "Worker" SET "currentTrialId" = NULL, progress = NULL, "lastHeartbeat" = ${ts(now)}
      FROM t WHERE "Worker".id = ${workerId} AND "Worker"."currentTrialId" = t.id
    )
    SELECT t.id FROM t
    CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 't', Prisma.sql`'queued'`)})) n`;
  if (rows.length) ctx.log?.('info', `trial ${trialId} released by ${workerId} (attempt ${attempt}): ${reason}`, { trialId, workerId, attempt });
  return rows.length > 0;
}

/**
 * Running trials whose lease expired before now: requeued with backoff while attempts are
 * left, else failed with "lease expired after N attempts (last worker W)". One statement with
 * SKIP LOCKED: safe to run from several coordinators at once (each expired trial is reaped once).
 */
export async function reapExpired(ctx: StoreContext): Promise<{ requeued: string[]; failed: string[] }> {
  const now = ctx.now();
  const left = Prisma.sql`(t.attempt < t."maxAttempts")`;
  const rows = await ctx.prisma.$queryRaw<{ id: string; sweepId: string; status: 'queued' | 'failed' }[]>`
    WITH expired AS (
      SELECT id FROM "Trial"
      WHERE status = 'running' AND "leaseExpiresAt" < ${ts(now)}
      FOR UPDATE SKIP LOCKED
    ), r AS (
      UPDATE "Trial" t SET
        status = CASE WHEN ${left} THEN 'queued' ELSE 'failed' END::"TrialStatus",
        "notBefore" = CASE WHEN ${left}
          THEN ${ts(now)} + LEAST(${ctx.backoffCapMs}::float8, ${ctx.backoffBaseMs}::float8 * power(2::float8, GREATEST(0, t.attempt - 1))) * interval '1 millisecond'
          ELSE NULL END,
        "finishedAt" = CASE WHEN ${left} THEN NULL ELSE ${ts(now)} END,
        "leaseExpiresAt" = NULL, progress = NULL,
        error = CASE WHEN ${left}
          THEN format('lease expired (attempt %s, worker %s)', t.attempt, t."leaseOwner")
          ELSE format('lease expired after %s attempts (last worker %s)', t.attempt, t."leaseOwner") END
      FROM expired e
      WHERE t.id = e.id AND t.status = 'running' AND t."leaseExpiresAt" < ${ts(now)}
      RETURNING t.id, t."sweepId", t.status::text AS status
    ), w AS (
      UPDATE "Worker" SET "currentTrialId" = NULL, progress = NULL FROM r WHERE "Worker"."currentTrialId" = r.id
    )
    SELECT r.id, r."sweepId", r.status FROM r
    CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 'r', Prisma.sql`r.status`)})) n`;
  const requeued = rows.filter((r) => r.status === 'queued').map((r) => r.id);
  const failed = rows.filter((r) => r.status === 'failed');
  for (const sweepId of new Set(failed.map((r) => r.sweepId))) {
    await failOrphans(ctx, sweepId);
    await refreshSweepStatus(ctx, sweepId);
  }
  return { requeued, failed: failed.map((r) => r.id) };
}
