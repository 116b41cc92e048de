// Pruners, pure: when a trial reports a value, continue, stop, or (ASHA with promotion) pause it
// at its rung; and which paused trials to resume. Functions of the report, the sweep's recorded
// values and the settings (@lmsweep/protocol's prunerSettings); no I/O, no clock, no randomness.
//
// What is judged: a configuration, not a seed. A configuration's value at a rung (or, for the
// median, at a step) is the mean over its seeds that reached it, and it is ranked against the
// other configurations' means, so a configuration with more seeds does not count more often (as
// the samplers are told, libs/sweep search-growth). A decision binds the configuration: once one
// of its seeds is stopped the others are stopped at their next report, and once one has gone on
// past a rung the others go on past it too, so a configuration's seeds are never split between
// stopped and finished ones (whose mean would then be over its lucky seeds only).
//
// Lower is better (perplexity). A value that is NaN or ±Infinity (diverged) is the worst: it ranks
// below every finite one, the trial reporting it is stopped, and it is never promoted.
import type { PrunerSettings } from '@lmsweep/protocol';

/** A trial's state as the pruner reads it ('paused': at a rung, its checkpoint kept, waiting for a promotion). */
export type PrunerTrialState = 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled' | 'pruned';

/** One evaluation of the pruner's metric. */
export interface PrunerPoint {
  step: number;
  /** Progress in the pruner's unit: tokens for rungs counted in tokens (absent: the step). */
  resource?: number;
  value: number;
}

/** A trial of the sweep and the values it reported, in step order. */
export interface PrunerTrial {
  trialId: string;
  configKey: string;
  seed: number;
  state: PrunerTrialState;
  points: readonly PrunerPoint[];
  /** A baseline whose checkpoint a compression trial still needs: never stopped or paused. */
  protected?: boolean;
}

/**
 * What the pruner knows of a sweep: its trials with their values (all the sweep's other trials,
 * and the reporting one's earlier points if stored; a point of it at the report's step or later
 * is ignored). Reports are judged one at a time per sweep (under its lock), so every stored point
 * has been decided. Pass only trials whose steps compare: trials that train from scratch apart
 * from compression trials, whose steps are fine-tuning steps from a checkpoint.
 */
export interface PrunerHistory {
  trials: readonly PrunerTrial[];
  /**
   * More configurations or seeds may still join (a search with budget left, seeds until the
   * interval is tight). When false (the default: the trials listed are all the sweep will have),
   * a rung that no listed trial can still reach promotes at least its best configuration, so a
   * finite sweep always takes one configuration to the end.
   */
  open?: boolean;
}

/** A metric report to judge: one evaluation of one trial. */
export interface PruneReport extends PrunerPoint {
  trialId: string;
  configKey: string;
  seed: number;
  protected?: boolean;
}

export type PruneDecision =
  | {
      action: 'continue';
      /** The highest rung this report reached (ASHA), if it reached one. */
      rung?: number;
    }
  | {
      action: 'stop' | 'pause';
      /** The rung judged at (ASHA), null for the median pruner and for a configuration stopped through another seed. */
      rung: number | null;
      step: number;
      /** The configuration's value judged (the mean over its seeds), or the report's value. */
      value: number;
      /** What it had to be at most to go on; null when no value was one (too few at the rung, a diverged value). */
      threshold: number | null;
      /** "pruned at step 300: rung 0, value 181.2 against threshold 164.5 (…)". */
      reason: string;
    };

/** A paused trial to queue again: it resumes from its checkpoint at the rung. */
export interface Promotion {
  trialId: string;
  configKey: string;
  seed: number;
  rung: number;
  step: number;
  /** Its configuration's value at the rung. */
  value: number;
  /** The worst value promoted from the rung (null when its configuration was promoted through another seed with no quota left). */
  threshold: number | null;
  reason: string;
}

/**
 * The rungs of ASHA: r_k = min·ηᵏ for k = 0, 1, … while r_k < max (the end of training is not a
 * rung: nothing is left to decide there). rungs(100, 3, 3000) = [100, 300, 900, 2700].
 */
export function rungs(min: number, reduction: number, max: number): number[] {
  if (!(min > 0) || !Number.isInteger(reduction) || reduction < 2) return [];
  const out: number[] = [];
  for (let r = min; r < max; r *= reduction) out.push(r);
  return out;
}

/** The rungs of ASHA settings ([] for the other pruners). */
export function rungsOf(settings: PrunerSettings): number[] {
  return settings.type === 'asha' ? rungs(settings.minResource, settings.reduction, settings.maxResource) : [];
}

/** Diverged values (NaN, ±Infinity) rank as the worst. */
const ranked = (v: number) => (Number.isFinite(v) ? v : Infinity);
const resourceOf = (p: PrunerPoint) => p.resource ?? p.step;
const mean = (vs: readonly number[]) => vs.reduce((a, b) => a + b, 0) / vs.length;
const fmt = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v));
const FINAL: ReadonlySet<PrunerTrialState> = new Set(['succeeded', 'failed', 'cancelled', 'pruned']);
const GOING: ReadonlySet<PrunerTrialState> = new Set(['queued', 'running', 'succeeded']);

/** The trials with the report put in: the reporting trial's points before it, then the report; running. */
function withReport(history: PrunerHistory, report: PruneReport): { trials: PrunerTrial[]; self: PrunerTrial } {
  const old = history.trials.find((t) => t.trialId === report.trialId);
  const point: PrunerPoint = { step: report.step, value: report.value, ...(report.resource !== undefined ? { resource: report.resource } : {}) };
  const self: PrunerTrial = {
    trialId: report.trialId,
    configKey: report.configKey,
    seed: report.seed,
    state: 'running',
    points: [...(old?.points.filter((p) => p.step < report.step) ?? []), point],
    ...(report.protected ? { protected: true } : {}),
  };
  return { trials: [...history.trials.filter((t) => t.trialId !== report.trialId), self], self };
}

/** Per trial, the index of its point at each rung (the first at or past it; -1: not reached). */
function rungPoints(t: PrunerTrial, rs: readonly number[]): number[] {
  return rs.map((r) => t.points.findIndex((p) => resourceOf(p) >= r));
}

/** Whether trial t went on past rung k (a later point, or it is queued, running or done after its rung point); protected trials do not count. */
function wentOn(t: PrunerTrial, at: number): boolean {
  return !t.protected && at >= 0 && (at < t.points.length - 1 || GOING.has(t.state));
}

interface ConfigAtRung {
  configKey: string;
  value: number;
  seeds: number;
  /** One of its (unprotected) seeds went on past the rung. */
  promoted: boolean;
}

/** The configurations at rung k, best first (ties by configKey). */
function rungTable(trials: readonly PrunerTrial[], at: ReadonlyMap<PrunerTrial, number[]>, k: number): ConfigAtRung[] {
  const byConfig = new Map<string, { values: number[]; promoted: boolean }>();
  for (const t of trials) {
    const i = at.get(t)![k]!;
    if (i < 0) continue;
    const c = byConfig.get(t.configKey) ?? { values: [], promoted: false };
    c.values.push(ranked(t.points[i]!.value));
    c.promoted ||= wentOn(t, i);
    byConfig.set(t.configKey, c);
  }
  return [...byConfig]
    .map(([configKey, c]) => ({ configKey, value: mean(c.values), seeds: c.values.length, promoted: c.promoted }))
    .sort((a, b) => a.value - b.value || (a.configKey < b.configKey ? -1 : a.configKey > b.configKey ? 1 : 0));
}

/** The rung a paused trial waits at: the highest its last point reached (null: its last point is at no rung). */
function pausedRung(t: PrunerTrial, at: readonly number[]): number | null {
  if (t.state !== 'paused' || t.points.length === 0) return null;
  const last = t.points.length - 1;
  for (let k = at.length - 1; k >= 0; k--) if (at[k] === last) return k;
  return null;
}

interface RungVerdict {
  configs: ConfigAtRung[];
  /** How many configurations may go on from the rung: ⌊n/η⌋, at least 1 once the rung is closed. */
  quota: number;
  top: Set<string>;
  threshold: number | null;
  resumed: PrunerTrial[];
}

/**
 * ASHA with promotion, rung by rung from the bottom: at each, the top ⌊n/η⌋ of the n
 * configurations recorded there (finite values only) may go on, and every paused trial of a
 * configuration in the top, or of one already promoted from the rung, is resumed. A rung is
 * closed when no trial can still reach it (every trial without a value there has ended, or is
 * paused below and not resumed now) and the history is not open; a closed rung promotes at least
 * its best configuration.
 */
function promotionVerdicts(trials: readonly PrunerTrial[], open: boolean, rs: readonly number[], reduction: number): RungVerdict[] {
  const at = new Map(trials.map((t) => [t, rungPoints(t, rs)] as const));
  const paused = new Map(trials.map((t) => [t, pausedRung(t, at.get(t)!)] as const));
  const resumedSoFar = new Set<PrunerTrial>();
  const out: RungVerdict[] = [];
  for (let k = 0; k < rs.length; k++) {
    const configs = rungTable(trials, at, k);
    const closed =
      !open &&
      trials.every((t) => {
        if (at.get(t)![k]! >= 0 || FINAL.has(t.state)) return true;
        if (t.state !== 'paused') return false;
        // Paused below and not resumed now: it can go on only if its rung changes. Paused at no rung: it never resumes.
        const p = paused.get(t);
        return p === null || p === undefined || (p < k && !resumedSoFar.has(t));
      });
    const base = Math.floor(configs.length / reduction);
    const quota = closed && configs.length > 0 ? Math.max(1, base) : base;
    const top = configs.slice(0, quota).filter((c) => Number.isFinite(c.value));
    const topKeys = new Set(top.map((c) => c.configKey));
    const promotedKeys = new Set(configs.filter((c) => c.promoted && Number.isFinite(c.value)).map((c) => c.configKey));
    const resumed = trials.filter((t) => paused.get(t) === k && (topKeys.has(t.configKey) || promotedKeys.has(t.configKey)));
    for (const t of resumed) resumedSoFar.add(t);
    out.push({ configs, quota, top: topKeys, threshold: top.length ? top[top.length - 1]!.value : null, resumed });
  }
  return out;
}

function seedsNote(c: ConfigAtRung): string {
  return c.seeds > 1 ? ` (mean of ${c.seeds} seeds)` : '';
}

/**
 * The paused trials to queue again (ASHA with promotion; [] otherwise): at each rung, those of a
 * configuration in the top ⌊n/η⌋ of the n configurations recorded there that has not gone on from
 * it yet, or of one that has (its other seeds follow it). Ordered from the top rung down (ASHA's
 * get_job looks there first), then best value, configKey and seed. With no trial paused, [].
 */
export function promotions(history: PrunerHistory, settings: PrunerSettings): Promotion[] {
  if (settings.type !== 'asha' || !settings.promotion) return [];
  const rs = rungsOf(settings);
  const verdicts = promotionVerdicts(history.trials, history.open ?? false, rs, settings.reduction);
  const out: Promotion[] = [];
  for (let k = rs.length - 1; k >= 0; k--) {
    const v = verdicts[k]!;
    const rank = new Map(v.configs.map((c, i) => [c.configKey, i] as const));
    const resumed = [...v.resumed].sort((a, b) => rank.get(a.configKey)! - rank.get(b.configKey)! || a.seed - b.seed || (a.trialId < b.trialId ? -1 : 1));
    for (const t of resumed) {
      const c = v.configs[rank.get(t.configKey)!]!;
      const point = t.points[t.points.length - 1]!;
      const why = v.top.has(t.configKey)
        ? `promoted from rung ${k} (${rs[k]} ${settings.unit}): value ${fmt(c.value)}${seedsNote(c)} is among the best ${v.quota} of ${v.configs.length} configurations there`
        : `promoted from rung ${k} (${rs[k]} ${settings.unit}): another seed of its configuration went on from this rung`;
      out.push({ trialId: t.trialId, configKey: t.configKey, seed: t.seed, rung: k, step: point.step, value: c.value, threshold: v.threshold, reason: why });
    }
  }
  return out;
}

/**
 * Judges one report: continue, stop, or (ASHA with promotion) pause at the rung.
 *
 * - A protected trial (a baseline a compression trial needs) always continues; its values still count.
 * - A diverged value (NaN, ±Infinity) stops the trial.
 * - A trial whose configuration has a seed already pruned is stopped.
 * - median (Optuna's MedianPruner): from step warmupSteps on, once warmupTrials trials have
 *   succeeded, stop when the configuration's best value so far (the mean over its seeds that
 *   reported this step of each one's best up to it) is worse than the median, at this step, of
 *   the other configurations that have a succeeded trial (each the mean over its succeeded
 *   seeds). Ties go on; with no such configuration, continue. A configuration one of whose
 *   seeds succeeded goes on (its seeds are never split between stopped and finished ones).
 * - asha without promotion (Optuna's SuccessiveHalvingPruner): at each rung the report reaches,
 *   its configuration's mean there is compared with every configuration's recorded there so far
 *   (any state): it goes on when it is at most the ⌊n/η⌋-th best, or with fewer than η
 *   configurations at the rung, when it is the best (ties go on); else it is stopped.
 * - asha with promotion: at the highest rung the report reaches, it goes on if its configuration
 *   is among the top ⌊n/η⌋ there now (promotions' rule, as if it paused and was promoted at
 *   once), else it pauses there. With fewer than η configurations at a rung, every one pauses
 *   until more arrive (or the rung closes).
 * - In both ASHA modes, a configuration one of whose seeds went on past the rung goes on.
 */
export function decide(report: PruneReport, history: PrunerHistory, settings: PrunerSettings): PruneDecision {
  if (settings.type === 'none' || report.protected) return { action: 'continue' };
  const { trials, self } = withReport(history, report);
  const { step, value } = report;
  if (!Number.isFinite(value)) return { action: 'stop', rung: null, step, value, threshold: null, reason: `pruned at step ${step}: the value diverged (${value})` };
  // The lowest such seed, so the reason does not depend on the order the trials come in.
  const pruned = trials.filter((t) => t !== self && t.configKey === self.configKey && t.state === 'pruned').sort((a, b) => a.seed - b.seed)[0];
  if (pruned) {
    const at = pruned.points[pruned.points.length - 1];
    return { action: 'stop', rung: null, step, value, threshold: null, reason: `pruned at step ${step}: its configuration was pruned through seed ${pruned.seed}${at ? ` at step ${at.step}` : ''}` };
  }
  return settings.type === 'median' ? decideMedian(self, trials, settings) : decideAsha(self, trials, history.open ?? false, settings);
}

function decideMedian(self: PrunerTrial, trials: readonly PrunerTrial[], settings: Extract<PrunerSettings, { type: 'median' }>): PruneDecision {
  const point = self.points[self.points.length - 1]!;
  const step = point.step;
  if (step < settings.warmupSteps) return { action: 'continue' };
  const succeeded = trials.filter((t) => t.state === 'succeeded');
  if (succeeded.length === 0 || succeeded.length < settings.warmupTrials) return { action: 'continue' };
  // A configuration with a seed that ran its whole budget goes on: stopping its other seeds would leave its mean over its lucky seeds only.
  if (succeeded.some((t) => t.configKey === self.configKey)) return { action: 'continue' };
  const at = (t: PrunerTrial) => t.points.find((p) => p.step === step);
  const others = new Map<string, number[]>();
  for (const t of succeeded) {
    const p = at(t);
    if (t.configKey === self.configKey || !p) continue;
    others.set(t.configKey, [...(others.get(t.configKey) ?? []), ranked(p.value)]);
  }
  if (others.size === 0) return { action: 'continue' };
  const reference = [...others.values()].map(mean).sort((a, b) => a - b);
  const mid = reference.length >> 1;
  const median = reference.length % 2 ? reference[mid]! : (reference[mid - 1]! + reference[mid]!) / 2;
  // The configuration's seeds that reported this step, each by its best value up to it (Optuna's best intermediate value).
  const own = trials
    .filter((t) => t.configKey === self.configKey && at(t))
    .map((t) => Math.min(...t.points.filter((p) => p.step <= step).map((p) => ranked(p.value))));
  const value = mean(own);
  if (!(value > median)) return { action: 'continue' };
  return {
    action: 'stop',
    rung: null,
    step,
    value,
    threshold: median,
    reason: `pruned at step ${step}: value ${fmt(value)}${own.length > 1 ? ` (mean of ${own.length} seeds' best)` : ' (best so far)'} against the median ${fmt(median)} of ${reference.length} finished configuration${reference.length > 1 ? 's' : ''} at this step`,
  };
}

function decideAsha(self: PrunerTrial, trials: readonly PrunerTrial[], open: boolean, settings: Extract<PrunerSettings, { type: 'asha' }>): PruneDecision {
  const rs = rungsOf(settings);
  const point = self.points[self.points.length - 1]!;
  const before = self.points.length > 1 ? resourceOf(self.points[self.points.length - 2]!) : -Infinity;
  const crossed = rs.map((r, k) => [r, k] as const).filter(([r]) => before < r && r <= resourceOf(point)).map(([, k]) => k);
  if (!crossed.length) return { action: 'continue' };
  const { step } = point;
  const where = (k: number) => `rung ${k} (${rs[k]} ${settings.unit})`;
  const siblingsWentOn = (k: number) => trials.some((t) => t !== self && t.configKey === self.configKey && wentOn(t, rungPoints(t, rs)[k]!));

  if (settings.promotion) {
    const k = crossed[crossed.length - 1]!;
    if (siblingsWentOn(k)) return { action: 'continue', rung: k };
    const asPaused = trials.map((t) => (t === self ? { ...t, state: 'paused' as const } : t));
    const v = promotionVerdicts(asPaused, open, rs, settings.reduction)[k]!;
    if (v.resumed.some((t) => t.trialId === self.trialId)) return { action: 'continue', rung: k };
    const own = v.configs.find((c) => c.configKey === self.configKey)!;
    const against = v.threshold === null ? `no threshold yet: ${v.configs.length} configuration${v.configs.length > 1 ? 's' : ''} at this rung, the best ⌊${v.configs.length}/${settings.reduction}⌋ = ${v.quota} go on` : `against threshold ${fmt(v.threshold)} (the best ${v.quota} of ${v.configs.length} configurations at this rung go on)`;
    return { action: 'pause', rung: k, step, value: own.value, threshold: v.threshold, reason: `paused at step ${step}: ${where(k)}, value ${fmt(own.value)}${seedsNote(own)} ${against}; it resumes from its checkpoint if promoted` };
  }

  const at = new Map(trials.map((t) => [t, rungPoints(t, rs)] as const));
  for (const k of crossed) {
    if (siblingsWentOn(k)) continue;
    const configs = rungTable(trials, at, k);
    const idx = Math.max(Math.floor(configs.length / settings.reduction) - 1, 0);
    const threshold = configs[idx]!.value;
    const own = configs.find((c) => c.configKey === self.configKey)!;
    if (own.value <= threshold) continue;
    const keep = configs.length < settings.reduction ? `with ${configs.length} configurations at this rung (fewer than η = ${settings.reduction}) only the best goes on` : `the best ${idx + 1} of ${configs.length} configurations at this rung go on`;
    return { action: 'stop', rung: k, step, value: own.value, threshold, reason: `pruned at step ${step}: ${where(k)}, value ${fmt(own.value)}${seedsNote(own)} against threshold ${fmt(threshold)} (${keep})` };
  }
  return { action: 'continue', rung: crossed[crossed.length - 1]! };
}
