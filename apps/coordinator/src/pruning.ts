// Pruned sweeps on the coordinator: the verdict on a judged validation point, given in the answer
// to the metric message that carried it; a paused trial's pause; and after a trial of a pruned
// sweep ends (a result, a final failure, a prune: seen as a database change, so one committed
// through another coordinator counts too), the promotions and closures of its paused trials.
// Every decision is libs/sweep planPrune over the sweep as stored, under the sweep's lock
// (libs/db prune-store), so several coordinators on one PostgreSQL judge one report at a time.
import type { Logger } from 'pino';
import { prunerSettings, type PrunerSettings, type PruneVerdict, SweepSpec } from '@lmsweep/protocol';
import { mergeScopes, planPrune, pruneOpen, type PruneReadScope, pruneScope } from '@lmsweep/sweep';
import { KeyedBatches } from './keyed-batches.ts';
import { SweepSteps } from './sweep-steps.ts';
import type { Change, JudgeInput, PauseInput, PauseOutcome, PruneJudge, PruneTriage, PruneView, TrialStore } from '@lmsweep/db';

export interface PruningOptions {
  store: TrialStore;
  log: Logger;
}

/** Sweeps remembered with their pruner (it never changes); forgotten past this many. */
const MAX_REMEMBERED = 10_000;

interface SweepPruner {
  settings: PrunerSettings;
  spec: SweepSpec;
}

export class SweepPruning {
  private readonly pruners = new Map<string, SweepPruner | null>();
  private readonly steps = new SweepSteps((sweepId) => this.step(sweepId));
  /** Reports of a sweep that wait while a decision on it runs are judged together in the next. */
  private readonly decisions = new KeyedBatches<{ report: JudgeInput; scope: PruneReadScope }, PruneVerdict | 'lost'>((sweepId, items) => this.decide(sweepId, items));

  constructor(private readonly opts: PruningOptions) {}

  /** The sweep's pruner from its spec (null: none, or a spec that does not read), as a decision reads it. */
  private pruner(spec: unknown, sweepId: string): SweepPruner | null {
    if (this.pruners.has(sweepId)) return this.pruners.get(sweepId)!;
    let out: SweepPruner | null = null;
    const parsed = SweepSpec.safeParse(spec);
    if (parsed.success) {
      try {
        const settings = prunerSettings(parsed.data);
        out = settings.type === 'none' ? null : { settings, spec: parsed.data };
      } catch (e) {
        this.opts.log.error({ sweepId, err: (e as Error).message }, 'pruning: the sweep\'s pruner does not read; its trials go on unjudged');
      }
    } else this.opts.log.error({ sweepId }, 'pruning: the sweep\'s stored spec does not read; its trials go on unjudged');
    if (this.pruners.size >= MAX_REMEMBERED) this.pruners.clear();
    this.pruners.set(sweepId, out);
    return out;
  }

  private judgeFor(report?: { trialId: string; step: number; value: number }): PruneJudge {
    return (view: PruneView) => {
      const p = this.pruner(view.sweep.spec, view.sweep.id);
      if (!p) return report ? { verdict: { action: 'continue', step: report.step } } : {};
      return planPrune(view.trials, p.settings, pruneOpen(p.spec, view.sweep.search), report);
    };
  }

  /**
   * The verdict on a judged trial's validation point; 'lost' when the lease is not this worker's.
   * First its trial alone is read (one statement, no lock: libs/db triageReport): where the pruner
   * cannot act on the report (libs/sweep pruneScope: ASHA between rungs, median before its
   * warmup) the answer is continue, and nothing is written, as the decision under the lock would
   * have. Else the decision runs under the sweep's lock over as much of the sweep as it needs,
   * with the other reports of its sweep that arrived while the decision before ran (KeyedBatches:
   * one transaction for them all, each decided in turn as if alone).
   */
  async judge(r: JudgeInput): Promise<PruneVerdict | 'lost'> {
    const known = this.knows(r.sweepId);
    const triage = await this.opts.store.triageReport(r, !known);
    return this.judgeTriaged(r, triage);
  }

  /** Whether the triage of this sweep's reports may leave out its spec (its pruner is remembered). */
  knows(sweepId: string | undefined): boolean {
    return sweepId !== undefined && this.pruners.has(sweepId);
  }

  /** judge, after the report's triage (read with the spec unless `knows` its sweep; the gateway's comes with the metric's insert). */
  async judgeTriaged(r: JudgeInput, triage: PruneTriage | 'lost'): Promise<PruneVerdict | 'lost'> {
    if (triage === 'lost') return 'lost';
    const p = this.pruners.has(triage.sweepId) ? this.pruners.get(triage.sweepId)! : this.pruner(triage.spec, triage.sweepId);
    const scope = p ? pruneScope(p.settings, r, triage) : 'continue';
    if (scope === 'continue') return { action: 'continue', step: r.step };
    return this.decisions.submit(triage.sweepId, { report: { ...r, sweepId: triage.sweepId }, scope });
  }

  private async decide(sweepId: string, items: { report: JudgeInput; scope: PruneReadScope }[]): Promise<(PruneVerdict | 'lost')[]> {
    const outs = await this.opts.store.judgeReports(
      items.map((i) => i.report),
      (view, report) => this.judgeFor(report)(view),
      mergeScopes(items.map((i) => i.scope)),
    );
    return outs.map((out, i) => {
      if (out === 'lost') return 'lost';
      const { verdict } = out;
      const r = items[i]!.report;
      if (verdict.action !== 'continue') this.opts.log.info({ trialId: r.trialId, attempt: r.attempt, step: r.step, sweepId, action: verdict.action }, verdict.reason);
      this.logMoves(out);
      return verdict;
    });
  }

  /** A worker says its trial paused as told. */
  async paused(p: PauseInput): Promise<PauseOutcome> {
    const out = await this.opts.store.pauseTrial(p, this.judgeFor());
    this.logMoves(out);
    return out.outcome;
  }

  private logMoves(out: { promoted: string[]; closed: string[] }): void {
    if (out.promoted.length) this.opts.log.info({ trials: out.promoted }, 'pruning: paused trials promoted (queued to resume)');
    if (out.closed.length) this.opts.log.info({ trials: out.closed }, 'pruning: paused trials closed (pruned at their rung)');
  }

  /** Looks at every running sweep with a paused trial (at start, and after missed changes). */
  async resume(): Promise<void> {
    try {
      for (const id of await this.opts.store.sweepsWithPaused()) this.steps.poke(id);
    } catch (e) {
      this.opts.log.error({ err: e }, 'pruning: listing the sweeps with paused trials failed');
    }
  }

  /** A database change: a trial ended, or a sweep runs again (a search given more budget reopens its rungs). */
  onChange(c: Change): void {
    const ended = c.kind === 'trial' && (c.status === 'succeeded' || c.status === 'failed' || c.status === 'pruned' || c.status === 'cancelled');
    const sweepId = ended ? c.sweepId : c.kind === 'sweep' && c.status === 'running' ? c.id : undefined;
    if (!sweepId || this.pruners.get(sweepId) === null) return;
    this.steps.poke(sweepId);
  }

  close(): Promise<void> {
    return this.steps.close();
  }

  private async step(sweepId: string): Promise<void> {
    try {
      const out = await this.opts.store.pruneStep(sweepId, this.judgeFor());
      if (out) this.logMoves(out);
    } catch (e) {
      this.opts.log.error({ err: e, sweepId }, 'pruning step failed');
    }
  }
}
