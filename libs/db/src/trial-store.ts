// The trial store: every query of sweeps, trials, metrics and workers, behind one object. Each
// concern is a file of functions over a shared StoreContext (the database, the clock, the
// backoff, the logger), which this class holds and passes on:
// - sweeps.ts: creation, lists, cancellation, the end of a sweep;
// - append.ts: trials appended to a sweep while it runs, under its lock (growth, extensions);
// - queue.ts: claims, heartbeats, failures, releases, the reaper (and the queue model: atomic
//   claims, writes fenced by lease owner and attempt);
// - results.ts: metrics, completion, flags on impossible seeds;
// - trials.ts: trial lists and one trial with its curves;
// - leaderboard-sql.ts: succeeded trials grouped by configuration, and configurations stopped early;
// - analysis-sql.ts: a sweep's every trial with its validation curve, for the analysis views;
// - notes.ts: the Markdown note of a sweep or a trial;
// - workers.ts: registration, liveness, the worker list;
// - slurm.ts: the Slurm job arrays of workers `lmsweep slurm submit` recorded;
// - prune-store.ts: a pruned sweep's verdicts, pauses, promotions and closures, under its lock;
// - artifact-store.ts: checkpoints in chunks (`artifacts`), or as files (artifact-files.ts).
import { DEFAULT_LEASE_MS, type MetricPoint, type SlurmJobRecord, type TrialResult } from '@lmsweep/protocol';
import type { PrismaClient, SlurmJob, Sweep, Trial } from './generated/client.ts';
import type { Db } from './database.ts';
import { ArtifactStore } from './artifact-store.ts';
import type { ArtifactFiles } from './artifact-files.ts';
import type { DbLogger } from './logger.ts';
import type { StoreContext } from './store-context.ts';
import * as sweeps from './sweeps.ts';
import type { CreateSweepInput, SweepWithCounts } from './sweeps.ts';
import * as append from './append.ts';
import type { AppendDecision, AppendOutcome, SweepGrowthState } from './append.ts';
import * as queue from './queue.ts';
import type { ClaimedTrial, FailInput, HeartbeatInput } from './queue.ts';
import * as results from './results.ts';
import type { CompleteInput, CompleteOutcome, MetricReport } from './results.ts';
import * as trials from './trials.ts';
import type { ListTrialsQuery, TrialWithCurves } from './trials.ts';
import * as leaderboard from './leaderboard-sql.ts';
import type { LeaderboardGroup, StoppedRow } from './leaderboard-sql.ts';
import * as analysis from './analysis-sql.ts';
import * as notes from './notes.ts';
import * as slurm from './slurm.ts';
import type { Note } from './notes.ts';
import type { AnalysisTrial } from './analysis-sql.ts';
import * as workers from './workers.ts';
import * as prune from './prune-store.ts';
import type { JudgedMetricReport, JudgeInput, JudgeOutcome, PauseInput, PauseOutcome, PruneJudge, PruneOutcome, PruneScope, PruneTriage, PruneView } from './prune-store.ts';
import type { WorkerInfo, WorkerInput } from './workers.ts';

export { type CreateSweepInput, type StatusCounts, type SweepStatus, type SweepWithCounts, TRIAL_STATUSES, type TrialStatus } from './sweeps.ts';
export type { AppendDecision, AppendOutcome, AppendRequest, GrowthTrial, SweepExtension, SweepGrowthState } from './append.ts';
export type { ClaimedTrial, FailInput, HeartbeatInput } from './queue.ts';
export { type CompleteInput, type CompleteOutcome, type MetricReport, SUSPECT_PPL_RATIO } from './results.ts';
export type { Curve, CurvePoint, ListTrialsQuery, TrialSort, TrialWithCurves } from './trials.ts';
export type { FlaggedSeed, LeaderboardGroup, LeaderboardRow, StoppedRow } from './leaderboard-sql.ts';
export type { WorkerInfo, WorkerInput, WorkerTrial } from './workers.ts';
export type { AnalysisTrial } from './analysis-sql.ts';
export { MAX_NOTE_CHARS, type Note } from './notes.ts';
export type { JudgedMetricReport, JudgeInput, JudgeOutcome, PauseInput, PauseOutcome, PruneJudge, PruneOutcome, PruneScope, PruneTriage, PruneTrial, PruneView } from './prune-store.ts';

export interface TrialStoreOptions {
  /** The clock for every timestamp the store writes or compares (tests move it instead of sleeping). */
  now?: () => Date;
  /** Base of the retry backoff: base · 2^(attempt-1) ms, capped at backoffCapMs (protocol's retryBackoffMs). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** listWorkers shows a worker not seen for longer than this as disconnected (default 3 × DEFAULT_LEASE_MS). */
  staleWorkerMs?: number;
  logger?: DbLogger;
  /** Where new checkpoints' bytes go: files in this directory (init()ed by the caller); default the database. */
  artifactFiles?: ArtifactFiles;
}

export class TrialStore {
  readonly prisma: PrismaClient;
  /** Checkpoints, stored in chunks (or files) and fenced by the lease. */
  readonly artifacts: ArtifactStore;
  private readonly ctx: StoreContext;

  constructor(db: Db, opts: TrialStoreOptions = {}) {
    this.prisma = db.prisma;
    this.ctx = {
      prisma: db.prisma,
      now: opts.now ?? (() => new Date()),
      backoffBaseMs: opts.backoffBaseMs ?? 1_000,
      backoffCapMs: opts.backoffCapMs ?? 60_000,
      staleWorkerMs: opts.staleWorkerMs ?? 3 * DEFAULT_LEASE_MS,
      log: opts.logger,
    };
    this.artifacts = new ArtifactStore(this.prisma, this.ctx.now, opts.artifactFiles ?? null);
  }

  /** The delay before a trial requeued after `attempt` may be claimed again. */
  backoffMs(attempt: number): number {
    return queue.backoffMs(this.ctx, attempt);
  }

  // ---------------------------------------------------------------- sweeps (sweeps.ts)

  /** Creates a running sweep and queues its trials (one transaction). */
  createSweep(input: CreateSweepInput): Promise<Sweep> {
    return sweeps.createSweep(this.ctx, input);
  }

  /** Sweeps, newest first, each with its trials counted by status. */
  listSweeps(q: { limit?: number; offset?: number } = {}): Promise<{ items: SweepWithCounts[]; total: number }> {
    return sweeps.listSweeps(this.ctx, q);
  }

  /** One sweep with its counts, or null. */
  getSweep(id: string): Promise<SweepWithCounts | null> {
    return sweeps.getSweep(this.ctx, id);
  }

  /** Cancels a running sweep's queued and running trials; returns those that were running (their workers are told to stop). */
  cancelSweep(sweepId: string): Promise<{ cancelled: number; running: { id: string; attempt: number; leaseOwner: string | null }[] }> {
    return sweeps.cancelSweep(this.ctx, sweepId);
  }

  /** Finishes a running sweep once none of its trials is queued or running; the new status, or null. */
  refreshSweepStatus(sweepId: string): Promise<'succeeded' | 'failed' | null> {
    return sweeps.refreshSweepStatus(this.ctx, sweepId);
  }

  // ---------------------------------------------------------------- growth (append.ts)

  /**
   * Locks the sweep, reads its trials, and appends what `decide` plans from that state (or, with
   * `done` and nothing queued or running, ends a growing sweep); one transaction.
   */
  appendPlans(sweepId: string, decide: AppendDecision): Promise<AppendOutcome> {
    return append.appendPlans(this.ctx, sweepId, decide);
  }

  /** A sweep's trials as a growth decision sees them, read without its lock (plan from it, then appendPlans checks it is unchanged); null when there is no such sweep. */
  growthState(sweepId: string): Promise<SweepGrowthState | null> {
    return append.growthState(this.ctx, sweepId);
  }

  /** Whether a sweep grows (its trials are planned while it runs); null when there is no such sweep. */
  sweepGrows(sweepId: string): Promise<boolean | null> {
    return append.sweepGrows(this.ctx, sweepId);
  }

  /** Running sweeps that grow, oldest first. */
  growingSweeps(): Promise<string[]> {
    return append.growingSweeps(this.ctx);
  }

  // ---------------------------------------------------------------- the queue (queue.ts)

  /** Hands the oldest claimable trial to `workerId` for `leaseMs` (one atomic statement); null when there is none. */
  claim(workerId: string, leaseMs: number): Promise<ClaimedTrial | null> {
    return queue.claim(this.ctx, workerId, leaseMs);
  }

  /** claim() for several workers in one statement (group commit); one entry per worker, in order. */
  claimMany(workerIds: string[], leaseMs: number): Promise<(ClaimedTrial | null)[]> {
    return queue.claimMany(this.ctx, workerIds, leaseMs);
  }

  /** Extends the lease to now + leaseMs and records progress. False: the lease is lost. */
  heartbeat(trialId: string, workerId: string, attempt: number, progress: number, leaseMs: number): Promise<boolean> {
    return queue.heartbeat(this.ctx, trialId, workerId, attempt, progress, leaseMs);
  }

  /** heartbeat() for several leases in one statement; one answer per beat, in order. */
  heartbeatMany(beats: HeartbeatInput[], leaseMs: number): Promise<boolean[]> {
    return queue.heartbeatMany(this.ctx, beats, leaseMs);
  }

  /** A failed attempt: requeued with backoff while retryable and attempts are left, else failed with the error. */
  fail(trialId: string, workerId: string, attempt: number, f: FailInput): Promise<'requeued' | 'failed' | 'lost'> {
    return queue.fail(this.ctx, trialId, workerId, attempt, f);
  }

  /** The trials whose live lease `workerId` holds, oldest claim first. */
  leasesOf(workerId: string): Promise<{ id: string; attempt: number }[]> {
    return queue.leasesOf(this.ctx, workerId);
  }

  /** The worker gives the trial back unfinished: queued again at once, costing no attempt. False: the lease was already lost. */
  release(trialId: string, workerId: string, attempt: number, reason: string): Promise<boolean> {
    return queue.release(this.ctx, trialId, workerId, attempt, reason);
  }

  /** Requeues (with backoff) or fails the running trials whose lease expired; safe on several coordinators at once. */
  reapExpired(): Promise<{ requeued: string[]; failed: string[] }> {
    return queue.reapExpired(this.ctx);
  }

  // ---------------------------------------------------------------- results (results.ts)

  /** Stores metric points of one attempt (idempotent). False: the lease is lost and nothing was stored. */
  addMetrics(trialId: string, workerId: string, attempt: number, points: MetricPoint[]): Promise<boolean> {
    return results.addMetrics(this.ctx, trialId, workerId, attempt, points);
  }

  /** addMetrics for several reports in one statement; one answer per report, in order. */
  addMetricsMany(reports: MetricReport[]): Promise<boolean[]> {
    return results.addMetricsMany(this.ctx, reports);
  }

  /** Records the result: 'ok', 'duplicate' (a resent message), 'lost' (not this worker's lease) or 'missing' (its checkpoint is not stored). */
  complete(trialId: string, workerId: string, attempt: number, result: TrialResult): Promise<CompleteOutcome> {
    return results.complete(this.ctx, trialId, workerId, attempt, result);
  }

  /** complete() for several results in one statement; one outcome per result, in order. */
  completeMany(items: CompleteInput[]): Promise<CompleteOutcome[]> {
    return results.completeMany(this.ctx, items);
  }

  /** Flags (or clears the flag of) the seeds of these trials' configurations too far below every other seed; returns the trials whose flag changed. */
  flagImpossible(trialIds: string[]): Promise<{ id: string; flag: string | null }[]> {
    return results.flagImpossible(this.ctx, trialIds);
  }

  // ---------------------------------------------------------------- pruning (prune-store.ts)

  /** Judges a running trial's validation point under its sweep's lock (fenced by lease and attempt); the verdict, and what it promoted or closed; 'lost' when the lease is not this worker's. */
  judgeReport(report: JudgeInput, judge: PruneJudge, scope?: PruneScope): ReturnType<typeof prune.judgeReport> {
    return prune.judgeReport(this.ctx, report, judge, scope);
  }

  /** Judges reports of one sweep together (one lock, one read; each decision sees those before it applied); an outcome per report, in order. */
  judgeReports(reports: readonly JudgeInput[], judge: (view: PruneView, report: JudgeInput) => PruneOutcome, scope?: PruneScope): Promise<JudgeOutcome[]> {
    return prune.judgeReports(this.ctx, reports, judge, scope);
  }

  /** Judged metric messages: their points stored and each one's trial triaged, in one statement; 'lost' where the lease did not hold. */
  addJudgedMetricsMany(reports: JudgedMetricReport[]): Promise<(PruneTriage | 'lost')[]> {
    return prune.addJudgedMetricsMany(this.ctx, reports);
  }

  /** A judged report's trial as the fast path reads it (one statement, no lock, fenced); 'lost' when the lease is not this worker's. */
  triageReport(report: JudgeInput, withSpec: boolean): Promise<PruneTriage | 'lost'> {
    return prune.triageReport(this.ctx, report, withSpec);
  }

  /** The trial paused as told, its resume checkpoint stored: paused, then promotions and closures as `judge` decides. */
  pauseTrial(p: PauseInput, judge: PruneJudge): Promise<{ outcome: PauseOutcome; promoted: string[]; closed: string[] }> {
    return prune.pauseTrial(this.ctx, p, judge);
  }

  /** Promotes or closes a sweep's paused trials as `judge` decides (after a trial ended); null: no such sweep. */
  pruneStep(sweepId: string, judge: PruneJudge): Promise<{ promoted: string[]; closed: string[] } | null> {
    return prune.pruneStep(this.ctx, sweepId, judge);
  }

  /** Running sweeps with a paused trial. */
  sweepsWithPaused(): Promise<string[]> {
    return prune.sweepsWithPaused(this.ctx);
  }

  // ---------------------------------------------------------------- trial reads (trials.ts)

  /** Trials filtered, sorted and paged, with the total. */
  listTrials(q: ListTrialsQuery = {}): Promise<{ items: Trial[]; total: number }> {
    return trials.listTrials(this.ctx, q);
  }

  /** One trial with its metric curves, one per (attempt, name). */
  getTrial(id: string): Promise<TrialWithCurves | null> {
    return trials.getTrial(this.ctx, id);
  }

  // ---------------------------------------------------------------- the leaderboard (leaderboard-sql.ts)

  /** Succeeded trials grouped by configuration (sweep, config key), in the database. */
  leaderboardGroups(q: { sweepId?: string | undefined } = {}): Promise<LeaderboardGroup[]> {
    return leaderboard.leaderboardGroups(this.ctx, q);
  }

  /** The pruned and paused trials of configurations stopped early (no seed succeeded, none queued or running). */
  stoppedRows(q: { sweepId?: string | undefined } = {}): Promise<StoppedRow[]> {
    return leaderboard.stoppedRows(this.ctx, q);
  }

  // ---------------------------------------------------------------- analysis (analysis-sql.ts)

  /** Every trial of a sweep in ordinal order, with `curves` its validation curve across its attempts; null when there is no such sweep. */
  analysisTrials(sweepId: string, opts: { curves: boolean } = { curves: true }): Promise<AnalysisTrial[] | null> {
    return analysis.analysisTrials(this.ctx, sweepId, opts);
  }

  // ---------------------------------------------------------------- notes (notes.ts)

  /** Replaces the Markdown note of a sweep or a trial; null when there is no such one. */
  setNote(kind: 'sweep' | 'trial', id: string, note: string): Promise<Note | null> {
    return notes.setNote(this.ctx, kind, id, note);
  }

  // ---------------------------------------------------------------- workers (workers.ts)

  /** Registers a worker, or revives its row when it reconnects with its id. Returns the id. */
  upsertWorker(w: WorkerInput): Promise<string> {
    return workers.upsertWorker(this.ctx, w);
  }

  /** Registers a worker for the gateway, with a fresh key, or a reconnecting one that presents its key; null when the id has another key. */
  registerWorker(w: WorkerInput, key?: string): Promise<{ id: string; key: string } | null> {
    return workers.registerWorker(this.ctx, w, key);
  }

  /** Whether `key` is the key of worker `id`. */
  workerKeyMatches(id: string, key: string): Promise<boolean> {
    return workers.workerKeyMatches(this.ctx, id, key);
  }

  /** The worker spoke: lastHeartbeat = now, connected; optionally its progress and current trial. */
  workerSeen(id: string, seen: { progress?: number | null; currentTrialId?: string | null } = {}): Promise<void> {
    return workers.workerSeen(this.ctx, id, seen);
  }

  /** The worker's connection closed (its trial keeps its lease; the reaper handles the rest). */
  workerDisconnected(id: string): Promise<void> {
    return workers.workerDisconnected(this.ctx, id);
  }

  /** Workers, connected first, then most recently seen, each with the trial it holds. */
  listWorkers(): Promise<WorkerInfo[]> {
    return workers.listWorkers(this.ctx);
  }

  // ---------------------------------------------------------------- Slurm jobs (slurm.ts)

  /** Records a job array of workers `lmsweep slurm submit` submitted. */
  recordSlurmJob(job: SlurmJobRecord): Promise<SlurmJob> {
    return slurm.recordSlurmJob(this.ctx, job);
  }

  /** The recorded job arrays, newest first. */
  listSlurmJobs(limit = 50): Promise<SlurmJob[]> {
    return slurm.listSlurmJobs(this.ctx, limit);
  }

  /** Marks job arrays cancelled; the ids among them that were recorded. */
  slurmJobsCancelled(ids: string[]): Promise<string[]> {
    return slurm.slurmJobsCancelled(this.ctx, ids);
  }
}
