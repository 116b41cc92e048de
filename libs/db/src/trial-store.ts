// The trial store: sweeps, the trial queue (atomic claim, fenced writes, reaper), metrics, workers.
//
// Queue model (graphile-worker / pg-boss style):
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
import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_LEASE_MS, retryBackoffMs, type AssignedTrial, type MetricPoint, type TrialPlan, type TrialResult } from '@lmsweep/protocol';
import { Prisma, type PrismaClient, type Sweep, type Trial, type Worker } from './generated/client.ts';
import { CHANGES_CHANNEL, type Change, type Db } from './database.ts';
import { newId } from './ids.ts';
import { type Artifact, ArtifactStore } from './artifact-store.ts';
import type { DbLogger } from './logger.ts';

export type TrialStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type SweepStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export const TRIAL_STATUSES: readonly TrialStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export type StatusCounts = Record<TrialStatus, number> & { total: number };
export type SweepWithCounts = Sweep & { counts: StatusCounts };

export interface TrialStoreOptions {
  /** The clock for every timestamp the store writes or compares (tests move it instead of sleeping). */
  now?: () => Date;
  /** Base of the retry backoff: base · 2^(attempt-1) ms, capped at backoffCapMs (protocol's retryBackoffMs). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** listWorkers shows a worker not seen for longer than this as disconnected (default 3 × DEFAULT_LEASE_MS). */
  staleWorkerMs?: number;
  logger?: DbLogger;
}

export interface CreateSweepInput {
  name: string;
  /** The parsed spec (stored as JSON). */
  spec: unknown;
  /** The spec as the user wrote it. */
  specText: string;
  plans: TrialPlan[];
  id?: string;
}

/** What a worker is given by claim. */
export type ClaimedTrial = AssignedTrial;

export interface HeartbeatInput {
  trialId: string;
  workerId: string;
  attempt: number;
  progress: number;
}

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

export interface FailInput {
  kind: 'error' | 'diverged' | 'oom';
  error: string;
  retryable: boolean;
}

export type TrialSort = 'ordinal' | 'createdAt' | 'validPpl' | 'testPpl' | 'params' | 'finishedAt';

export interface ListTrialsQuery {
  sweepId?: string;
  method?: string;
  status?: TrialStatus;
  sort?: TrialSort;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export interface CurvePoint {
  step: number;
  epoch: number;
  value: number;
  time: Date;
}
export interface Curve {
  attempt: number;
  name: string;
  points: CurvePoint[];
}
export type TrialWithCurves = Trial & { curves: Curve[] };

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

export interface WorkerInput {
  id?: string | undefined;
  name: string;
  host: string;
  backend: string;
  device: string;
  version: string;
}

export interface WorkerTrial {
  id: string;
  sweepId: string;
  attempt: number;
  method: string;
  seed: number;
  progress: number | null;
  leaseExpiresAt: Date | null;
}
/** A worker row; `connected` is false when it said goodbye or was not seen for staleWorkerMs; `stale` tells the latter. */
export type WorkerInfo = Omit<Worker, 'keyHash'> & { stale: boolean; currentTrial: WorkerTrial | null };

const MAX_ERROR_CHARS = 20_000;
/** A succeeded seed under this share of every other seed's perplexity is flagged (see flagImpossible). */
export const SUSPECT_PPL_RATIO = 0.5;
const MAX_PAGE = 10_000;

const ts = (d: Date) => Prisma.sql`${d}::timestamp(3)`;

function notifySql(c: Change) {
  return Prisma.sql`SELECT pg_notify(${CHANGES_CHANNEL}, ${JSON.stringify(c)})::text AS n`;
}

/** `json_build_object(...)::text` for a Change built from SQL expressions (table alias `alias`). */
function changeJson(kind: Change['kind'], alias: string, status: Prisma.Sql) {
  return Prisma.sql`json_build_object('kind', ${kind}::text, 'id', ${Prisma.raw(alias)}.id, 'sweepId', ${Prisma.raw(alias)}."sweepId", 'status', ${status})::text`;
}

function failureText(f: FailInput): string {
  const text = f.error.trim() || f.kind;
  const out = f.kind === 'error' || text.startsWith(f.kind) ? text : `${f.kind}: ${text}`;
  return out.length > MAX_ERROR_CHARS ? `${out.slice(0, MAX_ERROR_CHARS - 1)}…` : out;
}

function emptyCounts(): StatusCounts {
  return { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, total: 0 };
}

export class TrialStore {
  readonly prisma: PrismaClient;
  /** Checkpoints, stored in chunks and fenced by the lease. */
  readonly artifacts: ArtifactStore;
  private readonly now: () => Date;
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;
  private readonly staleWorkerMs: number;
  private readonly log: DbLogger | undefined;

  constructor(db: Db, opts: TrialStoreOptions = {}) {
    this.prisma = db.prisma;
    this.now = opts.now ?? (() => new Date());
    this.backoffBaseMs = opts.backoffBaseMs ?? 1_000;
    this.backoffCapMs = opts.backoffCapMs ?? 60_000;
    this.staleWorkerMs = opts.staleWorkerMs ?? 3 * DEFAULT_LEASE_MS;
    this.log = opts.logger;
    this.artifacts = new ArtifactStore(this.prisma, this.now);
  }

  /** The delay before a trial requeued after `attempt` may be claimed again. */
  backoffMs(attempt: number): number {
    return retryBackoffMs(attempt, this.backoffBaseMs, this.backoffCapMs);
  }

  // ---------------------------------------------------------------- sweeps

  /** Creates a running sweep and queues its trials (one transaction; trials by createMany). */
  async createSweep(input: CreateSweepInput): Promise<Sweep> {
    const id = input.id ?? newId('s');
    const now = this.now();
    const ids = new Map(input.plans.map((p) => [p.ordinal, newId('t')]));
    const [sweep] = await this.prisma.$transaction([
      this.prisma.sweep.create({
        data: { id, name: input.name, spec: input.spec as Prisma.InputJsonValue, specText: input.specText, createdAt: now },
      }),
      this.prisma.trial.createMany({
        data: input.plans.map((p) => ({
          id: ids.get(p.ordinal)!,
          parentId: p.parentOrdinal === undefined ? null : ids.get(p.parentOrdinal)!,
          sweepId: id,
          ordinal: p.ordinal,
          configKey: p.configKey,
          config: p.config as unknown as Prisma.InputJsonValue,
          method: p.method,
          seed: p.seed,
          maxAttempts: p.maxAttempts,
          createdAt: now,
        })),
      }),
      this.prisma.$queryRaw(notifySql({ kind: 'sweep', id, status: 'running' })),
    ]);
    return sweep;
  }

  async listSweeps(q: { limit?: number; offset?: number } = {}): Promise<{ items: SweepWithCounts[]; total: number }> {
    const [rows, total] = await Promise.all([
      this.prisma.sweep.findMany({
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: Math.min(q.limit ?? 50, MAX_PAGE),
        skip: q.offset ?? 0,
      }),
      this.prisma.sweep.count(),
    ]);
    const counts = await this.countsBySweep(rows.map((r) => r.id));
    return { items: rows.map((r) => ({ ...r, counts: counts.get(r.id) ?? emptyCounts() })), total };
  }

  async getSweep(id: string): Promise<SweepWithCounts | null> {
    const sweep = await this.prisma.sweep.findUnique({ where: { id } });
    if (!sweep) return null;
    const counts = await this.countsBySweep([id]);
    return { ...sweep, counts: counts.get(id) ?? emptyCounts() };
  }

  private async countsBySweep(ids: string[]): Promise<Map<string, StatusCounts>> {
    const out = new Map<string, StatusCounts>();
    if (!ids.length) return out;
    const groups = await this.prisma.trial.groupBy({ by: ['sweepId', 'status'], where: { sweepId: { in: ids } }, _count: { _all: true } });
    for (const g of groups) {
      const c = out.get(g.sweepId) ?? emptyCounts();
      c[g.status] += g._count._all;
      c.total += g._count._all;
      out.set(g.sweepId, c);
    }
    return out;
  }

  /**
   * Cancels a running sweep: its queued and running trials become cancelled (one statement, row
   * locks). Returns the trials that were running, so the coordinator can tell their workers to
   * stop; each of those also gets a `trial` change with status cancelled, the sweep a `sweep` change
   * (queued trials get none: one refetch covers them).
   */
  async cancelSweep(sweepId: string): Promise<{ cancelled: number; running: { id: string; attempt: number; leaseOwner: string | null }[] }> {
    const now = this.now();
    const [rows] = await this.prisma.$transaction([
      this.prisma.$queryRaw<{ id: string; attempt: number; leaseOwner: string | null; prev: string }[]>`
        WITH s AS (
          UPDATE "Sweep" SET status = 'cancelled', "finishedAt" = ${ts(now)}
          WHERE id = ${sweepId} AND status = 'running'
          RETURNING id
        ), locked AS (
          SELECT id, "sweepId", attempt, "leaseOwner", status FROM "Trial"
          WHERE "sweepId" = ${sweepId} AND status IN ('queued', 'running')
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
      this.prisma.$queryRaw(notifySql({ kind: 'sweep', id: sweepId, status: 'cancelled' })),
    ]);
    const running = rows.filter((r) => r.prev === 'running').map((r) => ({ id: r.id, attempt: r.attempt, leaseOwner: r.leaseOwner }));
    return { cancelled: rows.length, running };
  }

  /** Queued trials whose baseline failed for good can never start: they fail with it, naming it. */
  private async failOrphans(sweepId: string): Promise<void> {
    await this.prisma.$queryRaw`
      WITH f AS (
        UPDATE "Trial" c SET status = 'failed', "finishedAt" = ${ts(this.now())}, "notBefore" = NULL,
          error = format('its baseline trial %s (#%s) failed: %s', p.id, p.ordinal, coalesce(p.error, 'no reason given'))
        FROM "Trial" p
        WHERE c."sweepId" = ${sweepId} AND c."parentId" = p.id AND c.status = 'queued' AND p.status = 'failed'
        RETURNING c.id, c."sweepId"
      )
      SELECT count(*)::int AS n FROM f CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 'f', Prisma.sql`'failed'`)})) x`;
  }

  /**
   * Finishes a running sweep once none of its trials is queued or running: failed when no trial
   * succeeded and at least one failed, else succeeded. Returns the new status, or null when
   * nothing changed (still running, already finished, or no such sweep). complete/fail/reapExpired
   * call it themselves.
   */
  async refreshSweepStatus(sweepId: string): Promise<'succeeded' | 'failed' | null> {
    const rows = await this.prisma.$queryRaw<{ id: string; status: 'succeeded' | 'failed' }[]>`
      WITH done AS (
        UPDATE "Sweep" s SET
          status = CASE
            WHEN NOT EXISTS (SELECT 1 FROM "Trial" x WHERE x."sweepId" = s.id AND x.status = 'succeeded')
             AND EXISTS (SELECT 1 FROM "Trial" x WHERE x."sweepId" = s.id AND x.status = 'failed')
            THEN 'failed' ELSE 'succeeded' END::"SweepStatus",
          "finishedAt" = ${ts(this.now())}
        WHERE s.id = ${sweepId} AND s.status = 'running'
          AND NOT EXISTS (SELECT 1 FROM "Trial" x WHERE x."sweepId" = s.id AND x.status IN ('queued', 'running'))
        RETURNING s.id, s.status::text AS status
      )
      SELECT d.id, d.status FROM done d
      CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, json_build_object('kind', 'sweep', 'id', d.id, 'status', d.status)::text)) n`;
    return rows[0]?.status ?? null;
  }

  // ---------------------------------------------------------------- the queue

  /**
   * Hands the oldest claimable trial (sweep createdAt, then ordinal; sweep running; notBefore
   * null or past) to `workerId` for `leaseMs`, in one atomic statement (SKIP LOCKED: concurrent
   * claimers never get the same trial and never wait on each other). A trial with a parent
   * (a compression trial) is claimable once its parent succeeded; it comes with the parent's
   * checkpoint digest, and a trial others depend on with saveCheckpoint. Also sets the worker's
   * currentTrialId. Null when nothing is claimable.
   */
  async claim(workerId: string, leaseMs: number): Promise<ClaimedTrial | null> {
    return (await this.claimMany([workerId], leaseMs))[0] ?? null;
  }

  /**
   * claim() for several workers in one statement (group commit: a coordinator collects the
   * claims that arrive while the previous statement runs). Returns one entry per worker, in
   * order: its trial, or null when there were fewer claimable trials than workers (the first
   * workers are served first). A worker id given twice gets two trials.
   */
  async claimMany(workerIds: string[], leaseMs: number): Promise<(ClaimedTrial | null)[]> {
    if (workerIds.length === 0) return [];
    const now = this.now();
    const expires = new Date(now.getTime() + leaseMs);
    type Row = Omit<ClaimedTrial, 'parent' | 'saveCheckpoint'> & { n: number; parentId: string | null; parentSha256: string | null; parentBytes: number | null; saveCheckpoint: boolean };
    const rows = await this.prisma.$queryRaw<Row[]>`
      WITH req AS (
        SELECT value AS worker, ordinality::int AS n FROM jsonb_array_elements_text(${JSON.stringify(workerIds)}::jsonb) WITH ORDINALITY
      ), locked AS (
        -- queue order through the partial index on queued trials ("queueSeq": sweeps by creation, then ordinals)
        SELECT t.id, t."queueSeq" FROM "Trial" t JOIN "Sweep" s ON s.id = t."sweepId"
        WHERE t.status = 'queued' AND s.status = 'running'
          AND (t."notBefore" IS NULL OR t."notBefore" <= ${ts(now)})
          AND (t."parentId" IS NULL OR EXISTS (SELECT 1 FROM "Trial" p WHERE p.id = t."parentId" AND p.status = 'succeeded'))
        ORDER BY t."queueSeq"
        LIMIT ${workerIds.length}::int
        FOR UPDATE OF t SKIP LOCKED
      ), picked AS (
        SELECT l.id, req.worker, req.n FROM (SELECT id, row_number() OVER (ORDER BY "queueSeq")::int AS n FROM locked) l JOIN req ON req.n = l.n
      ), claimed AS (
        UPDATE "Trial" t SET
          status = 'running', attempt = t.attempt + 1, "leaseOwner" = picked.worker,
          "leaseExpiresAt" = ${ts(expires)}, "startedAt" = ${ts(now)}, "finishedAt" = NULL,
          "notBefore" = NULL, progress = 0
        FROM picked WHERE t.id = picked.id AND t.status = 'queued'
        RETURNING t.id, t."sweepId", t.attempt, t.seed, t.method, t.config, t."parentId", t."leaseOwner", picked.n
      ), w AS (
        UPDATE "Worker" SET "currentTrialId" = claimed.id, progress = 0, "lastHeartbeat" = ${ts(now)}, connected = true
        FROM claimed WHERE "Worker".id = claimed."leaseOwner"
      )
      SELECT c.n, c.id, c."sweepId", c.attempt, c.seed, c.method, c.config, c."parentId", a.sha256 AS "parentSha256", a.size AS "parentBytes",
        EXISTS (SELECT 1 FROM "Trial" k WHERE k."parentId" = c.id) AS "saveCheckpoint"
      FROM claimed c
      LEFT JOIN "Artifact" a ON a."trialId" = c."parentId" AND a.name = 'checkpoint'
      CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 'c', Prisma.sql`'running'`)})) x`;
    const out: (ClaimedTrial | null)[] = workerIds.map(() => null);
    for (const r of rows) {
      const t: ClaimedTrial = { id: r.id, sweepId: r.sweepId, attempt: r.attempt, seed: r.seed, method: r.method, config: r.config };
      if (r.parentId && r.parentSha256) t.parent = { trialId: r.parentId, sha256: r.parentSha256, bytes: r.parentBytes! };
      if (r.saveCheckpoint) t.saveCheckpoint = true;
      out[r.n - 1] = t;
    }
    return out;
  }

  /** Extends the lease to now + leaseMs and records progress (also on the worker row). False: the lease is lost. */
  async heartbeat(trialId: string, workerId: string, attempt: number, progress: number, leaseMs: number): Promise<boolean> {
    return (await this.heartbeatMany([{ trialId, workerId, attempt, progress }], leaseMs))[0]!;
  }

  /**
   * heartbeat() for several leases in one statement (a coordinator's group commit); one answer
   * per beat, in order. Beats of the same lease in one batch count as one (the last one's
   * progress), and all of them get its answer.
   */
  async heartbeatMany(beats: HeartbeatInput[], leaseMs: number): Promise<boolean[]> {
    if (beats.length === 0) return [];
    const now = this.now();
    const expires = new Date(now.getTime() + leaseMs);
    // One row per lease: an UPDATE … FROM with two matching rows would apply (and return) one.
    const keyOf = (b: HeartbeatInput) => `${b.trialId}\u0000${b.workerId}\u0000${b.attempt}`;
    const last = new Map<string, number>();
    beats.forEach((b, i) => last.set(keyOf(b), i));
    const req = JSON.stringify([...last.values()].map((i) => ({ n: i + 1, trialId: beats[i]!.trialId, worker: beats[i]!.workerId, attempt: beats[i]!.attempt, progress: beats[i]!.progress })));
    const rows = await this.prisma.$queryRaw<{ n: number }[]>`
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
   * Stores metric points of one attempt (NaN/±Infinity kept). Idempotent: a point already stored
   * for (trial, attempt, name, step) is ignored (ON CONFLICT DO NOTHING). False: the lease is lost
   * and nothing was stored.
   */
  async addMetrics(trialId: string, workerId: string, attempt: number, points: MetricPoint[]): Promise<boolean> {
    return (await this.addMetricsMany([{ trialId, workerId, attempt, points }]))[0]!;
  }

  /** addMetrics for several reports in one statement (a coordinator's group commit); one answer per report, in order. */
  async addMetricsMany(reports: MetricReport[]): Promise<boolean[]> {
    if (reports.length === 0) return [];
    // Values travel as text so NaN/Infinity survive JSON; float8 parses 'NaN', 'Infinity', '-Infinity'.
    const req = JSON.stringify(reports.map((r, i) => ({ n: i + 1, trialId: r.trialId, worker: r.workerId, attempt: r.attempt })));
    const pts = JSON.stringify(reports.flatMap((r, i) => r.points.map((p) => ({ n: i + 1, step: p.step, epoch: p.epoch, name: p.name, value: String(p.value) }))));
    const rows = await this.prisma.$queryRaw<{ n: number | null; notified: number }[]>`
      WITH req AS (
        SELECT * FROM jsonb_to_recordset(${req}::jsonb) AS r(n int, "trialId" text, worker text, attempt int)
      ), t AS (
        SELECT req.n, tr.id, tr."sweepId", tr.attempt FROM req JOIN "Trial" tr
          ON tr.id = req."trialId" AND tr."leaseOwner" = req.worker AND tr.attempt = req.attempt AND tr.status = 'running'
        FOR SHARE OF tr
      ), ins AS (
        INSERT INTO "TrialMetric" ("trialId", attempt, step, epoch, name, value, time)
        SELECT DISTINCT ON (t.id, t.attempt, x.name, x.step) t.id, t.attempt, x.step, x.epoch, x.name, x.value::float8, ${ts(this.now())}
        FROM t JOIN jsonb_to_recordset(${pts}::jsonb) AS x(n int, step int, epoch float8, name text, value text) ON x.n = t.n
        ON CONFLICT ("trialId", attempt, name, step) DO NOTHING
        RETURNING "trialId"
      ), n AS (
        SELECT pg_notify(${CHANGES_CHANNEL}, json_build_object('kind', 'metric', 'id', z.id, 'sweepId', z."sweepId")::text)
        FROM (SELECT DISTINCT t.id, t."sweepId" FROM t WHERE EXISTS (SELECT 1 FROM ins WHERE ins."trialId" = t.id)) z
      )
      SELECT t.n, (SELECT count(*) FROM n)::int AS notified FROM t
      UNION ALL SELECT NULL, (SELECT count(*) FROM n)::int`;
    const ok = new Set(rows.map((r) => r.n).filter((n): n is number => n !== null));
    return reports.map((_, i) => ok.has(i + 1));
  }

  /**
   * Records the result. 'duplicate': this worker's same attempt already completed it (a resent
   * message; nothing changes). 'lost': the lease is not this worker's any more. 'missing': other
   * trials depend on this one and this attempt stored no checkpoint (nothing changes).
   */
  async complete(trialId: string, workerId: string, attempt: number, result: TrialResult): Promise<CompleteOutcome> {
    return (await this.completeMany([{ trialId, workerId, attempt, result }]))[0]!;
  }

  /** complete() for several results in one statement (a coordinator's group commit); one outcome per result, in order. */
  async completeMany(items: CompleteInput[]): Promise<CompleteOutcome[]> {
    if (items.length === 0) return [];
    const now = this.now();
    const req = JSON.stringify(items.map((c, i) => ({ n: i + 1, trialId: c.trialId, worker: c.workerId, attempt: c.attempt, result: c.result })));
    const rows = await this.prisma.$queryRaw<{ n: number; id: string; sweepId: string }[]>`
      WITH req AS (
        SELECT * FROM jsonb_to_recordset(${req}::jsonb) AS r(n int, "trialId" text, worker text, attempt int, result jsonb)
      ), t AS (
        UPDATE "Trial" tr SET
          status = 'succeeded', "finishedAt" = ${ts(now)}, "leaseExpiresAt" = NULL, "notBefore" = NULL,
          progress = 1, error = NULL,
          params = (req.result->>'params')::int, "validPpl" = (req.result->>'validPpl')::float8, "testPpl" = (req.result->>'testPpl')::float8,
          seconds = (req.result->>'seconds')::float8, result = req.result
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
    if (rows.length) await this.flagImpossible(rows.map((r) => r.id));
    const out: (CompleteOutcome | undefined)[] = items.map(() => undefined);
    for (const r of rows) out[r.n - 1] = 'ok';
    const rest = items.map((c, i) => ({ c, i })).filter(({ i }) => out[i] === undefined);
    if (rest.length) {
      const cur = await this.prisma.trial.findMany({ where: { id: { in: [...new Set(rest.map(({ c }) => c.trialId))] } }, select: { id: true, status: true, leaseOwner: true, attempt: true } });
      const byId = new Map(cur.map((t) => [t.id, t]));
      for (const { c, i } of rest) {
        const t = byId.get(c.trialId);
        const mine = t && t.leaseOwner === c.workerId && t.attempt === c.attempt;
        out[i] = mine && t.status === 'running' ? 'missing' : mine && t.status === 'succeeded' ? 'duplicate' : 'lost';
      }
    }
    for (const sweepId of new Set(rows.map((r) => r.sweepId))) await this.refreshSweepStatus(sweepId);
    return out as CompleteOutcome[];
  }

  /**
   * Flags, in the configurations of the given trials, a succeeded seed whose validation or test
   * perplexity is under SUSPECT_PPL_RATIO of every other seed's (fake or broken: seeds of one
   * configuration differ by percents), and clears a flag the other seeds no longer support. Only
   * a configuration's lowest seed can be so far below all the others, so at least one seed always
   * stays unflagged. Returns the trials whose flag changed.
   */
  async flagImpossible(trialIds: string[]): Promise<{ id: string; flag: string | null }[]> {
    const rows = await this.prisma.$queryRaw<{ id: string; flag: string | null }[]>`
      WITH cfg AS (
        SELECT DISTINCT "sweepId", "configKey" FROM "Trial" WHERE id IN (SELECT jsonb_array_elements_text(${JSON.stringify(trialIds)}::jsonb))
      ), s AS (
        SELECT t.id, t.flag, t."validPpl" AS v, t."testPpl" AS te,
          min(t."validPpl") OVER w AS "otherV", min(t."testPpl") OVER w AS "otherT"
        FROM "Trial" t JOIN cfg ON cfg."sweepId" = t."sweepId" AND cfg."configKey" = t."configKey"
        WHERE t.status = 'succeeded' AND t."validPpl" IS NOT NULL AND t."testPpl" IS NOT NULL
        WINDOW w AS (PARTITION BY t."sweepId", t."configKey" ORDER BY t.id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW)
      ), f AS (
        SELECT id, flag AS old, CASE
          WHEN v < ${SUSPECT_PPL_RATIO}::float8 * "otherV" THEN format('validPpl %s is under %s× every other seed of its configuration (the lowest of them: %s)', trim_scale(round(v::numeric, 4)), ${SUSPECT_PPL_RATIO}::float8, trim_scale(round("otherV"::numeric, 4)))
          WHEN te < ${SUSPECT_PPL_RATIO}::float8 * "otherT" THEN format('testPpl %s is under %s× every other seed of its configuration (the lowest of them: %s)', trim_scale(round(te::numeric, 4)), ${SUSPECT_PPL_RATIO}::float8, trim_scale(round("otherT"::numeric, 4)))
          END AS flag
        FROM s
      )
      UPDATE "Trial" t SET flag = f.flag FROM f WHERE t.id = f.id AND t.flag IS DISTINCT FROM f.flag
      RETURNING t.id, t.flag`;
    for (const r of rows) if (r.flag) this.log?.('warn', `trial ${r.id} flagged: ${r.flag}`, { trialId: r.id });
    return rows;
  }

  /**
   * A failed attempt. Retryable with attempts left: back to queued, claimable after
   * retryBackoffMs(attempt). Otherwise failed, with the error text (prefixed by the kind unless it
   * already says it, e.g. "diverged at step 12: loss is NaN").
   */
  async fail(trialId: string, workerId: string, attempt: number, f: FailInput): Promise<'requeued' | 'failed' | 'lost'> {
    const now = this.now();
    const notBefore = new Date(now.getTime() + this.backoffMs(attempt));
    const retry = Prisma.sql`(${f.retryable}::boolean AND attempt < "maxAttempts")`;
    const rows = await this.prisma.$queryRaw<{ id: string; sweepId: string; status: 'queued' | 'failed' }[]>`
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
      await this.failOrphans(row.sweepId);
      await this.refreshSweepStatus(row.sweepId);
    }
    return row.status === 'queued' ? 'requeued' : 'failed';
  }

  /** The trials whose live lease `workerId` holds (running, not expired), oldest claim first. */
  async leasesOf(workerId: string): Promise<{ id: string; attempt: number }[]> {
    return this.prisma.trial.findMany({
      where: { leaseOwner: workerId, status: 'running', leaseExpiresAt: { gt: this.now() } },
      select: { id: true, attempt: true },
      orderBy: { startedAt: 'asc' },
    });
  }

  /**
   * The worker gives the trial back unfinished (e.g. SIGINT): queued again at once, and
   * maxAttempts is raised by one so the release costs no attempt (attempt itself only grows,
   * keeping fencing tokens and metric curves unique). False: the lease was already lost.
   */
  async release(trialId: string, workerId: string, attempt: number, reason: string): Promise<boolean> {
    const now = this.now();
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
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
    if (rows.length) this.log?.('info', `trial ${trialId} released by ${workerId} (attempt ${attempt}): ${reason}`, { trialId, workerId, attempt });
    return rows.length > 0;
  }

  /**
   * Running trials whose lease expired before now: requeued with backoff while attempts are
   * left, else failed with "lease expired after N attempts (last worker W)". One statement with
   * SKIP LOCKED: safe to run from several coordinators at once (each expired trial is reaped once).
   */
  async reapExpired(): Promise<{ requeued: string[]; failed: string[] }> {
    const now = this.now();
    const left = Prisma.sql`(t.attempt < t."maxAttempts")`;
    const rows = await this.prisma.$queryRaw<{ id: string; sweepId: string; status: 'queued' | 'failed' }[]>`
      WITH expired AS (
        SELECT id FROM "Trial"
        WHERE status = 'running' AND "leaseExpiresAt" < ${ts(now)}
        FOR UPDATE SKIP LOCKED
      ), r AS (
        UPDATE "Trial" t SET
          status = CASE WHEN ${left} THEN 'queued' ELSE 'failed' END::"TrialStatus",
          "notBefore" = CASE WHEN ${left}
            THEN ${ts(now)} + LEAST(${this.backoffCapMs}::float8, ${this.backoffBaseMs}::float8 * power(2::float8, GREATEST(0, t.attempt - 1))) * interval '1 millisecond'
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
      await this.failOrphans(sweepId);
      await this.refreshSweepStatus(sweepId);
    }
    return { requeued, failed: failed.map((r) => r.id) };
  }

  // ---------------------------------------------------------------- artifacts

  /** Stores a whole artifact held in memory (see ArtifactStore.put; uploads stream through `artifacts`). */
  putArtifact(trialId: string, workerId: string, attempt: number, name: string, data: Uint8Array, digest?: string): Promise<{ status: 'ok'; sha256: string } | { status: 'lost' }> {
    return this.artifacts.put(trialId, workerId, attempt, name, data, digest ? { digest } : {});
  }

  getArtifact(trialId: string, name: string): Promise<Artifact | null> {
    return this.artifacts.get(trialId, name);
  }

  // ---------------------------------------------------------------- trial reads

  async listTrials(q: ListTrialsQuery = {}): Promise<{ items: Trial[]; total: number }> {
    const where: Prisma.TrialWhereInput = {};
    if (q.sweepId) where.sweepId = q.sweepId;
    if (q.method) where.method = q.method;
    if (q.status) where.status = q.status;
    const order = q.order ?? 'asc';
    const sort = q.sort ?? 'ordinal';
    let orderBy: Prisma.TrialOrderByWithRelationInput[];
    switch (sort) {
      case 'ordinal':
        orderBy = [{ sweep: { createdAt: order } }, { sweepId: order }, { ordinal: order }];
        break;
      case 'createdAt':
        orderBy = [{ createdAt: order }, { sweepId: order }, { ordinal: order }];
        break;
      default:
        // Trials without the value (not finished yet) go last either way.
        orderBy = [{ [sort]: { sort: order, nulls: 'last' } }, { sweepId: 'asc' }, { ordinal: 'asc' }];
    }
    const [items, total] = await Promise.all([
      this.prisma.trial.findMany({ where, orderBy, take: Math.min(q.limit ?? 100, MAX_PAGE), skip: q.offset ?? 0 }),
      this.prisma.trial.count({ where }),
    ]);
    return { items, total };
  }

  /** One trial with its metric curves, one per (attempt, name): a dead attempt's curve never mixes with the next. */
  async getTrial(id: string): Promise<TrialWithCurves | null> {
    const trial = await this.prisma.trial.findUnique({ where: { id } });
    if (!trial) return null;
    const metrics = await this.prisma.trialMetric.findMany({
      where: { trialId: id },
      orderBy: [{ attempt: 'asc' }, { name: 'asc' }, { step: 'asc' }],
      select: { attempt: true, name: true, step: true, epoch: true, value: true, time: true },
    });
    const curves: Curve[] = [];
    let cur: Curve | undefined;
    for (const m of metrics) {
      if (!cur || cur.attempt !== m.attempt || cur.name !== m.name) {
        cur = { attempt: m.attempt, name: m.name, points: [] };
        curves.push(cur);
      }
      cur.points.push({ step: m.step, epoch: m.epoch, value: m.value, time: m.time });
    }
    return { ...trial, curves };
  }

  /**
   * Succeeded trials grouped by configuration (sweep, config key), in the database: one row per
   * configuration with its seeds, trial ids and perplexities in seed order (the interval and the
   * ranking happen in the API). A configuration's config is read once, not once per trial.
   */
  async leaderboardGroups(q: { sweepId?: string | undefined } = {}): Promise<LeaderboardGroup[]> {
    const ok = Prisma.sql`FILTER (WHERE flag IS NULL)`;
    const rows = await this.prisma.$queryRaw<(Omit<LeaderboardGroup, 'validPpl' | 'testPpl'> & { validPpl: number[]; testPpl: number[] })[]>`
      WITH g AS (
        SELECT "sweepId", "configKey", min(method) AS method, min(params)::int AS params,
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

  // ---------------------------------------------------------------- workers

  /** Registers a worker, or revives its row when it reconnects with its id (connected again). Returns the id. */
  async upsertWorker(w: WorkerInput): Promise<string> {
    const id = w.id ?? newId('w');
    const now = this.now();
    const fields = { name: w.name, host: w.host, backend: w.backend, device: w.device, version: w.version, connected: true, connectedAt: now, lastHeartbeat: now };
    await this.prisma.$transaction([
      this.prisma.worker.upsert({ where: { id }, create: { id, ...fields }, update: fields }),
      this.prisma.$queryRaw(notifySql({ kind: 'worker', id, status: 'connected' })),
    ]);
    return id;
  }

  /**
   * Registers a worker for the gateway. Without an id: a new worker, with a fresh secret key.
   * With an id: that worker reconnecting, which must present the key it was given (a worker id
   * alone is not a credential: any holder of the shared token could take over another worker's
   * leases). Null when the id is registered with another key. An id the database does not know
   * (e.g. after a reset) is registered with the key presented, or a fresh one.
   */
  async registerWorker(w: WorkerInput, key?: string): Promise<{ id: string; key: string } | null> {
    const id = w.id ?? newId('w');
    const k = (w.id && key) || randomBytes(24).toString('base64url');
    const keyHash = createHash('sha256').update(k).digest('hex');
    const now = ts(this.now());
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      WITH u AS (
        INSERT INTO "Worker" (id, name, host, backend, device, version, connected, "connectedAt", "lastHeartbeat", "keyHash")
        VALUES (${id}, ${w.name}, ${w.host}, ${w.backend}, ${w.device}, ${w.version}, true, ${now}, ${now}, ${keyHash})
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, host = EXCLUDED.host, backend = EXCLUDED.backend, device = EXCLUDED.device,
          version = EXCLUDED.version, connected = true, "connectedAt" = EXCLUDED."connectedAt", "lastHeartbeat" = EXCLUDED."lastHeartbeat",
          "keyHash" = EXCLUDED."keyHash"
        WHERE "Worker"."keyHash" IS NULL OR "Worker"."keyHash" = EXCLUDED."keyHash"
        RETURNING id
      )
      SELECT u.id FROM u CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, json_build_object('kind', 'worker', 'id', u.id, 'status', 'connected')::text)) n`;
    return rows.length ? { id, key: k } : null;
  }

  /** Whether `key` is the key of worker `id` (checked by the artifact upload route). */
  async workerKeyMatches(id: string, key: string): Promise<boolean> {
    const row = await this.prisma.worker.findUnique({ where: { id }, select: { keyHash: true } });
    return !!row?.keyHash && row.keyHash === createHash('sha256').update(key).digest('hex');
  }

  /** The worker spoke: lastHeartbeat = now, connected; optionally its progress and current trial (null clears). */
  async workerSeen(id: string, seen: { progress?: number | null; currentTrialId?: string | null } = {}): Promise<void> {
    const data: Prisma.WorkerUpdateManyMutationInput = { lastHeartbeat: this.now(), connected: true };
    if (seen.progress !== undefined) data.progress = seen.progress;
    if (seen.currentTrialId !== undefined) data.currentTrialId = seen.currentTrialId;
    await this.prisma.$transaction([
      this.prisma.worker.updateMany({ where: { id }, data }),
      this.prisma.$queryRaw(notifySql({ kind: 'worker', id, status: 'connected' })),
    ]);
  }

  /** The worker's connection closed. Its trial keeps its lease (it may reconnect); the reaper handles the rest. */
  async workerDisconnected(id: string): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.worker.updateMany({ where: { id }, data: { connected: false } }),
      this.prisma.$queryRaw(notifySql({ kind: 'worker', id, status: 'disconnected' })),
    ]);
  }

  /**
   * Workers, connected first, then most recently seen. `connected` is false for a worker that
   * disconnected or was not seen for staleWorkerMs (then `stale` is true). currentTrial is the
   * trial it holds the lease of, if any.
   */
  async listWorkers(): Promise<WorkerInfo[]> {
    const workers = await this.prisma.worker.findMany({ omit: { keyHash: true }, orderBy: [{ lastHeartbeat: 'desc' }, { id: 'asc' }] });
    const ids = workers.map((w) => w.currentTrialId).filter((x): x is string => !!x);
    const trials = ids.length
      ? await this.prisma.trial.findMany({
          where: { id: { in: ids }, status: 'running' },
          select: { id: true, sweepId: true, attempt: true, method: true, seed: true, progress: true, leaseExpiresAt: true, leaseOwner: true },
        })
      : [];
    const byId = new Map(trials.map((t) => [t.id, t]));
    const now = this.now().getTime();
    const out = workers.map((w): WorkerInfo => {
      const stale = now - w.lastHeartbeat.getTime() > this.staleWorkerMs;
      const t = w.currentTrialId ? byId.get(w.currentTrialId) : undefined;
      const currentTrial =
        t && t.leaseOwner === w.id
          ? { id: t.id, sweepId: t.sweepId, attempt: t.attempt, method: t.method, seed: t.seed, progress: t.progress, leaseExpiresAt: t.leaseExpiresAt }
          : null;
      return { ...w, connected: w.connected && !stale, stale, currentTrial };
    });
    return out.sort((a, b) => Number(b.connected) - Number(a.connected));
  }
}
