// What a pruned sweep's coordinator decides, from the sweep as stored (no I/O): the verdict on a
// judged validation point (libs/search decide), the paused trials to promote (promotions), and,
// once nothing can reach their rung any more, the paused trials to close (pruned where they wait).
//
// A sweep's trials are judged in two groups whose steps compare: those that train from scratch,
// and those that start from a baseline's checkpoint (compression methods and the dense +
// fine-tune control: their steps are fine-tuning steps). A trial that compression trials start
// from is never stopped or paused (its values still count), so no compression trial loses its
// starting point.
import { decide, promotions, type PrunerHistory, type PrunerTrial, type PrunerTrialState, rungsOf } from '@lmsweep/search';
import { type PrunerSettings, type PruneVerdict, readSearchState, type SweepSpec } from '@lmsweep/protocol';

/** A trial as the store reads it for a decision (libs/db PruneTrial). */
export interface PruneTrialView {
  id: string;
  configKey: string;
  seed: number;
  status: string;
  parentId: string | null;
  hasChildren: boolean;
  /** Running, told to pause, not paused yet: it waits at its rung as a paused trial does. */
  pausing: boolean;
  tokensPerStep: number;
  points: readonly { step: number; value: number }[];
}

export interface PrunePlan {
  verdict?: PruneVerdict;
  promote: { trialId: string; reason: string }[];
  close: { trialId: string; verdict: PruneVerdict & { action: 'stop' } }[];
}

export interface PruneReportInput {
  trialId: string;
  step: number;
  value: number;
}

const STATES: ReadonlySet<string> = new Set<PrunerTrialState>(['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled', 'pruned']);

function stateOf(t: PruneTrialView): PrunerTrialState {
  if (t.status === 'running' && t.pausing) return 'paused';
  return STATES.has(t.status) ? (t.status as PrunerTrialState) : 'cancelled';
}

const groupOf = (t: PruneTrialView) => (t.parentId === null ? 'scratch' : 'finetune');

function historyOf(trials: readonly PruneTrialView[], settings: PrunerSettings, open: boolean, state: (t: PruneTrialView) => PrunerTrialState = stateOf): PrunerHistory {
  const tokens = settings.type === 'asha' && settings.unit === 'tokens';
  return {
    open,
    trials: trials.map(
      (t): PrunerTrial => ({
        trialId: t.id,
        configKey: t.configKey,
        seed: t.seed,
        state: state(t),
        points: t.points.map((p) => (tokens ? { step: p.step, value: p.value, resource: p.step * t.tokensPerStep } : p)),
        ...(t.hasChildren ? { protected: true } : {}),
      }),
    ),
  };
}

/**
 * Whether more configurations or seeds may still join the sweep's rungs: a search with budget
 * left (fewer configurations chosen than search.trials, not exhausted). A grid, or a search that
 * has chosen all it will, is closed: a rung nothing can reach any more promotes its best.
 */
export function pruneOpen(spec: SweepSpec, search: unknown): boolean {
  if (!spec.search) return false;
  const state = readSearchState(search);
  return !state.exhausted && state.points.length < spec.search.trials;
}

/**
 * Decides for a pruned sweep: the verdict on `report` (when given), then, group by group, the
 * paused trials to promote and, in a group where nothing is queued or running and nothing is
 * promoted while the sweep is closed (`open` false), the paused trials to close: they are pruned
 * where they wait.
 */
export function planPrune(trials: readonly PruneTrialView[], settings: PrunerSettings, open: boolean, report?: PruneReportInput): PrunePlan {
  const plan: PrunePlan = { promote: [], close: [] };
  if (settings.type === 'none') return report ? { ...plan, verdict: { action: 'continue', step: report.step } } : plan;
  const self = report ? trials.find((t) => t.id === report.trialId) : undefined;
  let after: (t: PruneTrialView) => PrunerTrialState = stateOf;
  if (report && self) {
    const group = trials.filter((t) => groupOf(t) === groupOf(self));
    const tokens = settings.type === 'asha' && settings.unit === 'tokens';
    const d = decide(
      { trialId: self.id, configKey: self.configKey, seed: self.seed, step: report.step, value: report.value, ...(tokens ? { resource: report.step * self.tokensPerStep } : {}), ...(self.hasChildren ? { protected: true } : {}) },
      historyOf(group, settings, open),
      settings,
    );
    plan.verdict = d.action === 'continue' ? { action: 'continue', step: report.step } : { action: d.action, step: d.step, rung: d.rung, value: d.value, threshold: d.threshold, reason: d.reason };
    const s: PrunerTrialState = d.action === 'stop' ? 'pruned' : d.action === 'pause' ? 'paused' : 'running';
    after = (t) => (t.id === self.id ? s : stateOf(t));
  } else if (report) {
    plan.verdict = { action: 'continue', step: report.step };
  }
  for (const g of ['scratch', 'finetune'] as const) {
    const group = trials.filter((t) => groupOf(t) === g);
    if (!group.length) continue;
    // Only a trial paused in the store can be queued again; one still pausing is judged again when its pause is stored.
    const paused = new Set(group.filter((t) => t.status === 'paused' && !(self && t.id === self.id)).map((t) => t.id));
    const promoted = promotions(historyOf(group, settings, open, after), settings).filter((p) => paused.has(p.trialId));
    plan.promote.push(...promoted.map((p) => ({ trialId: p.trialId, reason: p.reason })));
    const busy = group.some((t) => {
      const s = after(t);
      return s === 'queued' || s === 'running' || (t.status === 'running' && s === 'paused');
    });
    if (open || busy || promoted.length || !paused.size) continue;
    for (const t of group) {
      if (!paused.has(t.id)) continue;
      const last = t.points[t.points.length - 1];
      plan.close.push({
        trialId: t.id,
        verdict: {
          action: 'stop',
          step: last?.step ?? 0,
          rung: null,
          value: last?.value ?? Number.NaN,
          threshold: null,
          reason: `pruned at step ${last?.step ?? 0}: it waited paused at its rung, and every trial of the sweep has finished without promoting it`,
        },
      });
    }
  }
  return plan;
}

/** What a judged report's trial says before its sweep is read (libs/db PruneTriage). */
export interface PruneTriageView {
  /** A verdict recorded on it (pausing, or the report resent). */
  verdict: unknown;
  /** Its curve's step before the report's (null: none). */
  prevStep: number | null;
  tokensPerStep: number;
  hasChildren: boolean;
  /** A trial of its configuration was pruned (any group). */
  configPruned: boolean;
  /** Trials of the sweep that succeeded (any group). */
  succeeded: number;
}

/** What a decision must read of the sweep (libs/db PruneScope): the verdict comes out as over the whole sweep. */
export type PruneReadScope = { kind: 'sweep' } | { kind: 'rungs'; rungs: readonly number[]; tokens: boolean } | { kind: 'step'; step: number };

/**
 * Whether planPrune can act on a report, from its trial alone: 'continue' when it would answer
 * continue and write nothing (no rung, no promotion, no closure) whatever the rest of the sweep
 * holds; else the least of the sweep the decision must read to decide as over all of it.
 *
 * - continue: a baseline compression trials start from (protected); ASHA, a finite value
 *   crossing no rung since the trial's previous point (rung tables, promotions and closures only
 *   change where a curve first reaches a rung); median, before warmupSteps, or with fewer
 *   succeeded trials than warmupTrials (or none); in each case with no verdict recorded on the
 *   trial and no pruned seed of its configuration (those stop it).
 * - ASHA without promotion, at a rung: each trial's point at the rungs crossed (its rung tables)
 *   and its configuration's whole curves (siblings that went on): `rungs`. It never pauses, so
 *   nothing is promoted or closed.
 * - median: the succeeded trials' points at this step and its configuration's curves: `step`.
 *   It never pauses either.
 * - ASHA with promotion at a rung, or anything above: the whole sweep.
 */
export function pruneScope(settings: PrunerSettings, report: { step: number; value: number }, t: PruneTriageView): 'continue' | PruneReadScope {
  if (settings.type === 'none' || t.hasChildren) return 'continue';
  const plain = t.verdict === null && !t.configPruned && Number.isFinite(report.value);
  if (settings.type === 'median') {
    if (plain && (report.step < settings.warmupSteps || t.succeeded === 0 || t.succeeded < settings.warmupTrials)) return 'continue';
    return plain ? { kind: 'step', step: report.step } : { kind: 'sweep' };
  }
  const tokens = settings.unit === 'tokens';
  const res = (step: number) => (tokens ? step * t.tokensPerStep : step);
  const before = t.prevStep === null ? -Infinity : res(t.prevStep);
  const crossed = rungsOf(settings).filter((r) => before < r && r <= res(report.step));
  if (plain && !crossed.length) return 'continue';
  if (plain && !settings.promotion) return { kind: 'rungs', rungs: crossed, tokens };
  return { kind: 'sweep' };
}

/**
 * One read that holds what each of these scopes holds (judged together, libs/db judgeReports):
 * rungs together, the one step, or the whole sweep. A wider view decides as a narrower one does
 * (each scope is the least that decides as over the whole sweep).
 */
export function mergeScopes(scopes: readonly PruneReadScope[]): PruneReadScope {
  const [first, ...rest] = scopes;
  if (!first || first.kind === 'sweep') return { kind: 'sweep' };
  if (first.kind === 'step') return rest.every((s) => s.kind === 'step' && s.step === first.step) ? first : { kind: 'sweep' };
  const rungs = new Set(first.rungs);
  for (const s of rest) {
    if (s.kind !== 'rungs' || s.tokens !== first.tokens) return { kind: 'sweep' };
    for (const r of s.rungs) rungs.add(r);
  }
  return { kind: 'rungs', rungs: [...rungs].sort((a, b) => a - b), tokens: first.tokens };
}
