// Pruning in the store: a judged trial's validation point decided under its sweep's lock, a trial
// pausing at its rung, paused trials promoted (queued again to resume) or closed (pruned).
//
// Every decision runs in one transaction that locks the sweep's row first (as appendPlans and
// cancelSweep do), so reports of one sweep are judged one at a time across coordinators, each
// against every value stored before it. What to decide is the caller's (the coordinator's
// libs/search decide/promotions): the store reads the sweep as a PruneView, hands it over, and
// writes the outcome, fenced like every other write of a trial by (lease owner, attempt).
//
// A paused trial keeps its curve in segments: the attempt it paused in and the step it paused at
// ([{ attempt, through }], one per pause). The attempt that resumes it reports the steps after the
// last `through`; a dead attempt in between is in no segment, so its points never mix in.
import type { PruneVerdict } from '@lmsweep/protocol';
import { Prisma } from './generated/client.ts';
import { CHANGES_CHANNEL } from './database.ts';
import { type MetricReport, metricWrites } from './results.ts';
import { changeJson, type StoreContext, ts } from './store-context.ts';
import type { TrialStatus } from './sweeps.ts';
import { finishSweepIfDone, refreshSweepStatus } from './sweeps.ts';

/** A trial of a pruned sweep as a decision sees it. */
export interface PruneTrial {
  id: string;
  configKey: string;
  seed: number;
  status: TrialStatus;
  /** Its baseline, for a trial that starts from one (its steps are fine-tuning steps). */
  parentId: string | null;
  /** Compression trials start from its checkpoint: never stopped or paused. */
  hasChildren: boolean;
  /** Running, told to pause and not yet paused: it waits at its rung as a paused one does. */
  pausing: boolean;
  /** Training tokens per optimizer step (batch × unroll): rungs counted in tokens. */
  tokensPerStep: number;
  /** Its validation points (valid_ppl) along its curve (segments and current attempt), in step order. */
  points: { step: number; value: number }[];
}

export interface PruneView {
  sweep: { id: string; spec: unknown; grows: boolean; search: unknown };
  trials: PruneTrial[];
}

/** What a decision writes. */
export interface PruneOutcome {
  /** The verdict on the report (judgeReport only). */
  verdict?: PruneVerdict;
  /** Paused trials to queue again (they resume from their checkpoint), with why. */
  promote?: { trialId: string; reason: string }[];
  /** Paused trials whose rung closed without them: pruned, with the verdict saying why. */
  close?: { trialId: string; verdict: PruneVerdict & { action: 'stop' } }[];
}

export type PruneJudge = (view: PruneView) => PruneOutcome;

/**
 * What a decision reads of its sweep (the caller's pruner knows what it needs; libs/sweep
 * pruneScope): `sweep`, every trial with its whole curve; `rungs`, every trial but those queued
 * that never ran (no curve), with only its first point at or past each of these rungs (in tokens:
 * step × tokensPerStep), the reporters' configurations whole (ASHA without promotion at the rungs
 * a report crossed); `step`,
 * only the trials that succeeded and those of the reporters' configurations, the succeeded ones'
 * points at this step only (the median pruner). A trial whose curve spans attempts (it paused)
 * always comes whole.
 */
export type PruneScope = { kind: 'sweep' } | { kind: 'rungs'; rungs: readonly number[]; tokens: boolean } | { kind: 'step'; step: number };

/** What a judged report's fast path reads of its trial, in one statement and no lock (triageReport). */
export interface PruneTriage {
  sweepId: string;
  /** The sweep's spec, when asked for (the caller caches its pruner). */
  spec?: unknown;
  /** A verdict recorded on it (it is pausing, or the report is resent). */
  verdict: PruneVerdict | null;
  /** Its curve's step before the report's (null: the report is its first point). */
  prevStep: number | null;
  tokensPerStep: number;
  /** Compression trials start from it. */
  hasChildren: boolean;
  /** A trial of its configuration (any seed, either group) was pruned. */
  configPruned: boolean;
  /** Trials of the sweep that succeeded (both groups). */
  succeeded: number;
}

export interface JudgeInput {
  trialId: string;
  /** Its sweep, when the caller knows it (saves a lookup). */
  sweepId?: string;
  workerId: string;
  attempt: number;
  /** The validation point judged. */
  step: number;
  value: number;
}

export interface PauseInput {
  trialId: string;
  sweepId?: string;
  workerId: string;
  attempt: number;
  step: number;
  /** The stored resume checkpoint's digest (resumeArtifactName(attempt)). */
  sha256: string;
  seconds: number;
}

/** 'duplicate': this attempt already paused it there (a resent message); 'missing': its resume checkpoint is not stored (or differs). */
export type PauseOutcome = 'ok' | 'duplicate' | 'lost' | 'missing';

type Tx = Prisma.TransactionClient;

const TX = { maxWait: 20_000, timeout: 60_000 };

/** A trial as readView reads it: what a decision sees, and what fences the reporter's write. */
interface StoredTrial extends PruneTrial {
  leaseOwner: string | null;
  attempt: number;
  verdict: PruneVerdict | null;
  segments: { attempt: number; through: number }[];
}

type Row = [string, string, number, TrialStatus, string | null, boolean, boolean, number, [number, number][] | null, string | null, number, PruneVerdict | null, { attempt: number; through: number }[]];

/**
 * The valid_ppl points of trial `t`'s curve (its segments' attempts up to where each paused, then
 * its current attempt's, not a queued trial's: that attempt is over, and the next resumes before
 * it; a step two attempts reported, none should, counts once: the later attempt's), as a
 * json array of [step, value] in step order, those matching `where` (on m.step). Each part is one
 * range of the (trialId, attempt, name, step) index.
 */
export function curveJson(where: Prisma.Sql = Prisma.empty, limit: Prisma.Sql = Prisma.empty): Prisma.Sql {
  return Prisma.sql`(SELECT json_agg(json_build_array(p.step, p.value) ORDER BY p.step) FROM (
    SELECT DISTINCT ON (c.step) c.step, c.value FROM (
      SELECT m.step, m.value, m.attempt FROM "TrialMetric" m
      WHERE m."trialId" = t.id AND m.attempt = t.attempt AND m.name = 'valid_ppl' AND t.status <> 'queued' ${where}
      UNION ALL
      SELECT m.step, m.value, m.attempt FROM jsonb_to_recordset(t.segments) s(attempt int, through int)
      JOIN "TrialMetric" m ON m."trialId" = t.id AND m.attempt = s.attempt AND m.name = 'valid_ppl' AND m.step <= s.through ${where}
    ) c ORDER BY c.step, c.attempt DESC ${limit}) p)`;
}

/**
 * Locks the sweep's row (its own statement: the next one then reads what the holder before
 * committed), then reads its trials with their curves in one statement, as one JSON text (a
 * decision comes with every judged report: one row of text parses far faster than thousands of
 * rows through the driver; measured on PGlite at 300 trials, 7 ms against 23), as much of them
 * as `scope` says (PruneScope).
 */
async function readView(tx: Tx, sweepId: string, scope: PruneScope = { kind: 'sweep' }, reporters: readonly string[] = []): Promise<{ sweep: PruneView['sweep']; trials: StoredTrial[] } | null> {
  const [sweep] = await tx.$queryRaw<PruneView['sweep'][]>`SELECT id, spec, grows, search FROM "Sweep" WHERE id = ${sweepId} FOR UPDATE`;
  if (!sweep) return null;
  const whole = curveJson();
  const own = Prisma.sql`(t."configKey" IN (SELECT r."configKey" FROM "Trial" r WHERE r.id IN (SELECT jsonb_array_elements_text(${JSON.stringify(reporters)}::jsonb))) OR t.segments <> '[]'::jsonb)`;
  const tokensPerStep = Prisma.sql`(coalesce((t.config->'training'->>'batchSize')::int, 20) * coalesce((t.config->'training'->>'unroll')::int, 20))`;
  let points = whole;
  let only = Prisma.empty;
  if (scope.kind === 'rungs') {
    // The first point at or past each rung: the first step s with s × tokensPerStep ≥ r.
    const per = Prisma.join(
      scope.rungs.map((r) => {
        const from = scope.tokens ? Prisma.sql`ceil(${r}::float8 / ${tokensPerStep})::int` : Prisma.sql`${Math.ceil(r)}::int`;
        return Prisma.sql`(SELECT json_build_array(m.step, m.value) FROM "TrialMetric" m WHERE m."trialId" = t.id AND m.attempt = t.attempt AND m.name = 'valid_ppl' AND m.step >= ${from} AND t.status <> 'queued' ORDER BY m.step LIMIT 1)`;
      }),
    );
    points = Prisma.sql`CASE WHEN ${own} THEN ${whole} ELSE (SELECT json_agg(DISTINCT x::jsonb)::json FROM unnest(ARRAY[${per}]) x WHERE x IS NOT NULL) END`;
    // A queued trial that never paused has no curve: it is at no rung (most of a young sweep).
    only = Prisma.sql`AND (t.status <> 'queued' OR ${own})`;
  } else if (scope.kind === 'step') {
    points = Prisma.sql`CASE WHEN ${own} THEN ${whole} ELSE ${curveJson(Prisma.sql`AND m.step = ${scope.step}::int`)} END`;
    only = Prisma.sql`AND (t.status = 'succeeded' OR ${own})`;
  }
  const [{ v }] = (await tx.$queryRaw<{ v: string | null }[]>`
    SELECT json_agg(json_build_array(t.id, t."configKey", t.seed, t.status, t."parentId",
      EXISTS (SELECT 1 FROM "Trial" k WHERE k."parentId" = t.id),
      (t.status = 'running' AND t.verdict->>'action' = 'pause'),
      ${tokensPerStep},
      ${points},
      t."leaseOwner", t.attempt, t.verdict, t.segments) ORDER BY t.ordinal)::text AS v
    FROM "Trial" t WHERE t."sweepId" = ${sweepId} ${only}`) as [{ v: string | null }];
  const rows = (v ? JSON.parse(v) : []) as Row[];
  const trials = rows.map(([id, configKey, seed, status, parentId, hasChildren, pausing, tokensPerStep, points, leaseOwner, attempt, verdict, segments]): StoredTrial => ({
    id,
    configKey,
    seed,
    status,
    parentId,
    hasChildren,
    pausing,
    tokensPerStep,
    // JSON has no NaN: a diverged value comes back null, and ranks as the worst (NaN) does.
    points: (points ?? []).sort((a, b) => a[0] - b[0]).map(([step, value]) => ({ step, value: value ?? Number.NaN })),
    leaseOwner,
    attempt,
    verdict,
    segments,
  }));
  return { sweep, trials };
}

/**
 * The triage columns (PruneTriage, spec last) of trial row `t` for a report at `step` (an int
 * expression), the spec only when `withSpec` (a boolean expression) holds.
 */
function triageColumns(step: Prisma.Sql, withSpec: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`t."sweepId", t.verdict,
      (SELECT max(c.step) FROM (
        SELECT m.step FROM "TrialMetric" m WHERE m."trialId" = t.id AND m.attempt = t.attempt AND m.name = 'valid_ppl' AND m.step < ${step}
        UNION ALL
        SELECT m.step FROM jsonb_to_recordset(t.segments) s(attempt int, through int)
        JOIN "TrialMetric" m ON m."trialId" = t.id AND m.attempt = s.attempt AND m.name = 'valid_ppl' AND m.step <= s.through AND m.step < ${step}
      ) c) AS "prevStep",
      coalesce((t.config->'training'->>'batchSize')::int, 20) * coalesce((t.config->'training'->>'unroll')::int, 20) AS "tokensPerStep",
      EXISTS (SELECT 1 FROM "Trial" k WHERE k."parentId" = t.id) AS "hasChildren",
      EXISTS (SELECT 1 FROM "Trial" o WHERE o."sweepId" = t."sweepId" AND o.status = 'pruned' AND o."configKey" = t."configKey") AS "configPruned",
      (SELECT count(*) FROM "Trial" o WHERE o."sweepId" = t."sweepId" AND o.status = 'succeeded')::int AS succeeded,
      CASE WHEN ${withSpec} THEN (SELECT s.spec FROM "Sweep" s WHERE s.id = t."sweepId") END AS spec`;
}

type TriageRow = Omit<PruneTriage, 'spec'> & { spec: unknown };

const triageOf = (row: TriageRow, withSpec: boolean): PruneTriage => {
  const { spec, ...rest } = row;
  return withSpec ? { ...rest, spec } : rest;
};

/**
 * The fast path's look at a judged report's trial (PruneTriage): one statement, no transaction and
 * no lock; fenced by lease and attempt ('lost': not this worker's running attempt). It writes
 * nothing: a report the pruner cannot act on is answered from it (libs/sweep pruneScope).
 */
export async function triageReport(ctx: StoreContext, report: JudgeInput, withSpec: boolean): Promise<PruneTriage | 'lost'> {
  const [row] = await ctx.prisma.$queryRaw<TriageRow[]>`
    SELECT ${triageColumns(Prisma.sql`${report.step}::int`, Prisma.sql`${withSpec}`)}
    FROM "Trial" t
    WHERE t.id = ${report.trialId} AND t."leaseOwner" = ${report.workerId} AND t.attempt = ${report.attempt}::int AND t.status = 'running'`;
  return row ? triageOf(row, withSpec) : 'lost';
}

/** A judged metric message: its points, and the step of the validation point its verdict is on. */
export interface JudgedMetricReport extends MetricReport {
  step: number;
  /** The triage carries the sweep's spec (the caller has not cached its pruner). */
  withSpec: boolean;
}

/**
 * Stores judged reports' points (as addMetricsMany) and triages each (as triageReport) in one
 * statement (a coordinator's group commit): the message that holds a validation point costs one
 * round trip before its decision, not two. The triage reads the trial as the statement began:
 * the point just stored is not in it, as prevStep only counts steps before the report's.
 * 'lost': the lease did not hold (nothing stored).
 */
export async function addJudgedMetricsMany(ctx: StoreContext, reports: JudgedMetricReport[]): Promise<(PruneTriage | 'lost')[]> {
  if (reports.length === 0) return [];
  const judged = JSON.stringify(reports.map((r, i) => ({ n: i + 1, step: r.step, spec: r.withSpec })));
  const rows = await ctx.prisma.$queryRaw<(TriageRow & { n: number; notified: number })[]>`
    WITH ${metricWrites(ctx, reports)}, j AS (SELECT * FROM jsonb_to_recordset(${judged}::jsonb) AS j(n int, step int, spec boolean))
    SELECT w.n, (SELECT count(*) FROM n)::int AS notified, ${triageColumns(Prisma.sql`j.step`, Prisma.sql`j.spec`)}
    FROM t AS w JOIN "Trial" t ON t.id = w.id JOIN j ON j.n = w.n`;
  const byN = new Map(rows.map((r) => [r.n, r]));
  return reports.map((r, i) => {
    const row = byN.get(i + 1);
    if (!row) return 'lost' as const;
    const { n: _n, notified: _notified, ...triage } = row;
    return triageOf(triage, r.withSpec);
  });
}

/** Writes promotions and closures of paused trials; returns the ids changed. */
async function writeOutcome(ctx: StoreContext, tx: Tx, sweepId: string, out: PruneOutcome): Promise<{ promoted: string[]; closed: string[] }> {
  const now = ctx.now();
  const promoted: string[] = [];
  const closed: string[] = [];
  if (out.promote?.length) {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      WITH p AS (
        UPDATE "Trial" SET status = 'queued', promotions = promotions + 1, "maxAttempts" = GREATEST("maxAttempts", attempt + 1), "notBefore" = NULL, verdict = NULL
        WHERE "sweepId" = ${sweepId} AND status = 'paused' AND id IN (SELECT jsonb_array_elements_text(${JSON.stringify(out.promote.map((p) => p.trialId))}::jsonb))
        RETURNING id, "sweepId"
      )
      SELECT p.id FROM p CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 'p', Prisma.sql`'queued'`)})) n`;
    promoted.push(...rows.map((r) => r.id));
    for (const p of out.promote) if (promoted.includes(p.trialId)) ctx.log?.('info', `trial ${p.trialId} ${p.reason}`, { trialId: p.trialId });
  }
  for (const c of out.close ?? []) {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      WITH c AS (
        UPDATE "Trial" SET status = 'pruned', "finishedAt" = ${ts(now)}, verdict = ${JSON.stringify(c.verdict)}::jsonb, error = NULL
        WHERE "sweepId" = ${sweepId} AND id = ${c.trialId} AND status = 'paused'
        RETURNING id, "sweepId"
      )
      SELECT c.id FROM c CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 'c', Prisma.sql`'pruned'`)})) n`;
    closed.push(...rows.map((r) => r.id));
  }
  return { promoted, closed };
}

/** A judged report's outcome: its verdict and the paused trials its decision promoted or closed; 'lost': not this worker's lease. */
export type JudgeOutcome = { verdict: PruneVerdict; promoted: string[]; closed: string[] } | 'lost';

/**
 * Judges a validation point of a running trial: under the sweep's lock, fenced by the trial's
 * lease and attempt, `judge` decides from the sweep as stored (the point itself is stored first,
 * by addMetrics). stop: the trial is pruned now (its lease ends: its steps, rung, last value and
 * verdict kept). pause: the verdict is recorded and the trial runs on until its worker has stored
 * the resume checkpoint and says `paused`. continue: its rung, if it reached one, is recorded.
 * Promotions and closures the decision brings are written in the same transaction. A report
 * judged before (a resent message) gets the verdict recorded then. 'lost': not this worker's
 * lease (nothing judged).
 */
export async function judgeReport(ctx: StoreContext, report: JudgeInput, judge: PruneJudge, scope: PruneScope = { kind: 'sweep' }): Promise<JudgeOutcome> {
  return (await judgeReports(ctx, [report], (view) => judge(view), scope))[0]!;
}

/**
 * Judges reports of one sweep together, as judgeReport judges one: one lock and one read of the
 * sweep (`scope` must hold what each report's decision needs), then each report in turn, its
 * decision seeing the ones before it applied (a trial stopped is pruned, one told to pause is
 * pausing, promoted ones are queued, closed ones pruned), so the verdicts are those of the
 * reports judged one after another in this order. The coordinator sends the reports that arrived
 * while its previous decision on the sweep ran: under load a decision costs one transaction
 * however many reports wait, and none waits behind more than one.
 */
export async function judgeReports(ctx: StoreContext, reports: readonly JudgeInput[], judge: (view: PruneView, report: JudgeInput) => PruneOutcome, scope: PruneScope = { kind: 'sweep' }): Promise<JudgeOutcome[]> {
  if (!reports.length) return [];
  const results = await ctx.prisma.$transaction(async (tx) => {
    const sweepId = reports[0]!.sweepId ?? (await tx.$queryRaw<{ sweepId: string }[]>`SELECT "sweepId" FROM "Trial" WHERE id = ${reports[0]!.trialId}`)[0]?.sweepId;
    const view = sweepId ? await readView(tx, sweepId, scope, reports.map((r) => r.trialId)) : null;
    if (!view) return { sweepId: null, outs: reports.map(() => 'lost' as const) };
    const outs: JudgeOutcome[] = [];
    let stopped = false;
    const state = { view };
    for (const report of reports) {
      const out = await judgeOne(ctx, tx, state, report, judge);
      if (out !== 'lost' && out.verdict.action === 'stop') stopped = true;
      outs.push(out);
    }
    // A trial pruned: when it was the last to run the sweep ends, under the lock held already (a
    // statement, not a transaction after). A view of every trial tells when some other is still
    // to run (a narrower one holds only some).
    if (stopped && scope.kind === 'sweep' && !state.view.trials.some((x) => x.status === 'queued' || x.status === 'running' || x.status === 'paused')) await finishSweepIfDone(ctx, tx, view.sweep.id);
    return { sweepId: view.sweep.id, outs };
  }, TX);
  if (results.sweepId && results.outs.some((o) => o !== 'lost' && o.closed.length)) await refreshSweepStatus(ctx, results.sweepId);
  return results.outs;
}

/** One report of judgeReports: decided from `view`, written fenced, and applied to `view` for the next. */
async function judgeOne(ctx: StoreContext, tx: Tx, state: { view: { sweep: PruneView['sweep']; trials: StoredTrial[] } }, report: JudgeInput, judge: (view: PruneView, report: JudgeInput) => PruneOutcome): Promise<JudgeOutcome> {
  const { view } = state;
  const t = view.trials.find((x) => x.id === report.trialId);
  if (!t || t.status !== 'running' || t.leaseOwner !== report.workerId || t.attempt !== report.attempt) return 'lost';
  if (t.verdict && t.verdict.step === report.step) return { verdict: t.verdict, promoted: [], closed: [] };
  const out = judge(view, report);
  const verdict = out.verdict ?? { action: 'continue' as const, step: report.step };
  // New views, not changed ones: a decision may keep the view it was given.
  const seen = (change: Partial<StoredTrial>) => (state.view = { ...state.view, trials: state.view.trials.map((x) => (x.id === t.id ? { ...x, ...change } : x)) });
  const now = ctx.now();
  // The sweep's lock keeps other decisions out, not the reaper or a cancel: the write is fenced again.
  const fence = Prisma.sql`"leaseOwner" = ${report.workerId} AND attempt = ${report.attempt}::int AND status = 'running'`;
  if (verdict.action === 'stop') {
    const done = await tx.$queryRaw<{ id: string }[]>`
      WITH t AS (
        UPDATE "Trial" SET status = 'pruned', "finishedAt" = ${ts(now)}, "leaseExpiresAt" = NULL, progress = NULL, error = NULL,
          steps = ${report.step}::int, rung = coalesce(${verdict.rung}::int, rung), "validPpl" = ${String(report.value)}::float8,
          seconds = EXTRACT(EPOCH FROM (${ts(now)} - "startedAt")) + coalesce(seconds, 0), verdict = ${JSON.stringify(verdict)}::jsonb
        WHERE id = ${report.trialId} AND ${fence} RETURNING id, "sweepId", "leaseOwner"
      ), w AS (
        UPDATE "Worker" SET "currentTrialId" = NULL, progress = NULL, "lastHeartbeat" = ${ts(now)} FROM t WHERE "Worker".id = t."leaseOwner" AND "Worker"."currentTrialId" = t.id
      )
      SELECT t.id FROM t CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 't', Prisma.sql`'pruned'`)})) n`;
    if (!done.length) return 'lost';
    seen({ status: 'pruned', verdict });
  } else if (verdict.action === 'pause') {
    if (!(await tx.$executeRaw`UPDATE "Trial" SET verdict = ${JSON.stringify(verdict)}::jsonb, rung = coalesce(${verdict.rung}::int, rung) WHERE id = ${report.trialId} AND ${fence}`)) return 'lost';
    seen({ pausing: true, verdict });
  } else {
    const rung = (verdict as { rung?: number }).rung;
    if (rung !== undefined) await tx.$executeRaw`UPDATE "Trial" SET rung = GREATEST(coalesce(rung, -1), ${rung}::int) WHERE id = ${report.trialId}`;
  }
  const { promoted, closed } = await writeOutcome(ctx, tx, view.sweep.id, out);
  if (promoted.length || closed.length) state.view = { ...state.view, trials: state.view.trials.map((x) => (promoted.includes(x.id) ? { ...x, status: 'queued' } : closed.includes(x.id) ? { ...x, status: 'pruned' } : x)) };
  return { verdict, promoted, closed };
}

/**
 * The trial paused where its verdict said: with its resume checkpoint of this attempt stored
 * (the digest matching), it becomes paused (its lease over, the segment recorded, its steps and
 * seconds kept) and resume checkpoints of its earlier pauses are deleted. Then `judge` may
 * promote or close paused trials (this one included), in the same transaction.
 */
export async function pauseTrial(ctx: StoreContext, p: PauseInput, judge: PruneJudge): Promise<{ outcome: PauseOutcome; promoted: string[]; closed: string[] }> {
  const name = `resume-${p.attempt}`;
  const result = await ctx.prisma.$transaction(async (tx) => {
    const sweepId = p.sweepId ?? (await tx.$queryRaw<{ sweepId: string }[]>`SELECT "sweepId" FROM "Trial" WHERE id = ${p.trialId}`)[0]?.sweepId;
    const view = sweepId ? await readView(tx, sweepId) : null;
    const row = view?.trials.find((x) => x.id === p.trialId);
    if (!view || !row) return { outcome: 'lost' as const };
    const mine = row.leaseOwner === p.workerId && row.attempt === p.attempt;
    const last = row.segments[row.segments.length - 1];
    if (mine && row.status !== 'running') return { outcome: last && last.attempt === p.attempt && last.through === p.step ? ('duplicate' as const) : ('lost' as const) };
    if (!mine || row.verdict?.action !== 'pause' || row.verdict.step !== p.step) return { outcome: 'lost' as const };
    const [a] = await tx.$queryRaw<{ sha256: string; attempt: number }[]>`SELECT sha256, attempt FROM "Artifact" WHERE "trialId" = ${p.trialId} AND name = ${name}`;
    if (!a || a.sha256 !== p.sha256 || a.attempt !== p.attempt) return { outcome: 'missing' as const };
    const now = ctx.now();
    const paused = await tx.$queryRaw<{ id: string }[]>`
      WITH t AS (
        UPDATE "Trial" SET status = 'paused', "leaseExpiresAt" = NULL, progress = NULL, steps = ${p.step}::int, seconds = ${p.seconds}::float8, "finishedAt" = ${ts(now)},
          "validPpl" = (SELECT m.value FROM "TrialMetric" m WHERE m."trialId" = ${p.trialId} AND m.attempt = ${p.attempt}::int AND m.name = 'valid_ppl' AND m.step = ${p.step}::int),
          segments = segments || jsonb_build_array(jsonb_build_object('attempt', ${p.attempt}::int, 'through', ${p.step}::int))
        WHERE id = ${p.trialId} AND "leaseOwner" = ${p.workerId} AND attempt = ${p.attempt}::int AND status = 'running'
        RETURNING id, "sweepId", "leaseOwner"
      ), w AS (
        UPDATE "Worker" SET "currentTrialId" = NULL, progress = NULL, "lastHeartbeat" = ${ts(now)} FROM t WHERE "Worker".id = t."leaseOwner" AND "Worker"."currentTrialId" = t.id
      )
      SELECT t.id FROM t CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, ${changeJson('trial', 't', Prisma.sql`'paused'`)})) n`;
    // Reaped or cancelled since the view was read (their writes do not wait for the sweep's lock).
    if (!paused.length) return { outcome: 'lost' as const };
    await tx.$executeRaw`DELETE FROM "Artifact" WHERE "trialId" = ${p.trialId} AND name LIKE 'resume-%' AND name <> ${name}`;
    // The decision sees the trial paused.
    const seen: PruneView = { ...view, trials: view.trials.map((t) => (t.id === p.trialId ? { ...t, status: 'paused', pausing: false } : t)) };
    const { promoted, closed } = await writeOutcome(ctx, tx, view.sweep.id, judge(seen));
    return { outcome: 'ok' as const, promoted, closed, sweepId: view.sweep.id };
  }, TX);
  if (result.outcome !== 'ok') return { outcome: result.outcome, promoted: [], closed: [] };
  if (result.closed.length) await refreshSweepStatus(ctx, result.sweepId);
  return { outcome: 'ok', promoted: result.promoted, closed: result.closed };
}

/**
 * Promotes or closes paused trials of a sweep as `judge` decides from it (after a trial ended, or
 * a search ran out of budget: rungs close), under the sweep's lock; then finishes the sweep if
 * nothing is left to run. Null: no such sweep.
 */
export async function pruneStep(ctx: StoreContext, sweepId: string, judge: PruneJudge): Promise<{ promoted: string[]; closed: string[] } | null> {
  // Most trial ends are of sweeps with nothing paused: those cost one indexed lookup, no lock.
  const [any] = await ctx.prisma.$queryRaw<{ n: number }[]>`SELECT 1 AS n FROM "Trial" WHERE "sweepId" = ${sweepId} AND status = 'paused' LIMIT 1`;
  if (!any) return { promoted: [], closed: [] };
  const result = await ctx.prisma.$transaction(async (tx) => {
    const view = await readView(tx, sweepId);
    if (!view) return null;
    if (!view.trials.some((t) => t.status === 'paused')) return { promoted: [], closed: [] };
    return writeOutcome(ctx, tx, sweepId, judge(view));
  }, TX);
  if (result && result.closed.length) await refreshSweepStatus(ctx, sweepId);
  return result;
}

/** Sweeps that are running with a paused trial (the coordinator looks at each when it starts). */
export async function sweepsWithPaused(ctx: StoreContext): Promise<string[]> {
  const rows = await ctx.prisma.$queryRaw<{ id: string }[]>`
    SELECT s.id FROM "Sweep" s WHERE s.status = 'running' AND EXISTS (SELECT 1 FROM "Trial" t WHERE t."sweepId" = s.id AND t.status = 'paused') ORDER BY s."createdAt"`;
  return rows.map((r) => r.id);
}

