// The growth decision: what a running sweep adds next, from its spec and its stored trials'
// states and results alone (no I/O, no clock, no randomness). The coordinator calls it under the
// sweep's lock after results commit (and when it starts) and appends what it returns; a sweep
// that grows ends when it returns nothing and nothing is queued or running. Two things grow a
// sweep: seeds until the interval is tight (spec.seeds { min, max, ciHalfWidth }), and a sampler
// (spec.search: search-growth.ts), whose choices become plans the same way (planConfiguration).
import { meanCI95 } from '@lmsweep/algorithms';
import { type AdaptiveSeeds, type GridValue, readSearchState, type SearchPoint, type SearchState, type SweepSpec, type TrialPlan } from '@lmsweep/protocol';
import { configFor, configKey } from './config.ts';
import { gridPoints } from './expand.ts';
import { PlanIndex, planConfiguration } from './plan.ts';
import { isSampledSpec } from './sampled-spec.ts';
import { planSearch, type TimedTrial } from './search-growth.ts';

/** What the decision reads of a stored trial. */
export interface TrialState {
  ordinal: number;
  configKey: string;
  seed: number;
  status: 'queued' | 'running' | 'paused' | 'succeeded' | 'pruned' | 'failed' | 'cancelled';
  params: number | null;
  validPpl: number | null;
  /** Its result looks impossible next to its configuration's other seeds: not counted. */
  flagged: boolean;
}

/** One configuration as the decision judges it. */
export interface ConfigurationState {
  configKey: string;
  /** Its trials, whatever their state. */
  trials: number;
  /** Trials queued or running (a paused one waits without a slot). */
  active: number;
  /** The highest seed it has (−1: none). */
  lastSeed: number;
  params: number | null;
  /** Validation perplexities of its succeeded, unflagged seeds. */
  values: number[];
  /** Its seeds' last validation perplexities where they stopped early (pruned, or paused at a rung). */
  stopped: number[];
  mean: number;
  /** The 95% Student-t half-width; null with fewer than two values. */
  halfWidth: number | null;
  /** Not beaten beyond both intervals by a configuration with at most its parameters (see nearFront). */
  nearFront: boolean;
}

export interface GrowthDecision {
  /** The trials to append (ordinals after the stored ones). */
  plans: TrialPlan[];
  /** The configurations given one more seed, and why: their interval then. */
  seeded: { configKey: string; seed: number; seeds: number; halfWidth: number | null }[];
  /** A sampled sweep's search state after this decision (store it with the plans); absent for a grid. */
  search?: SearchState;
  /** The configurations the sampler chose, and the points it drew and could not queue. */
  chosen?: SearchPoint[];
  rejected?: number;
  /** Whether `search` differs from the stored state (then store it). */
  searchChanged?: boolean;
}

/** The spec's seeds-until-tight settings, or null for a fixed list of seeds. */
export function adaptiveSeeds(spec: SweepSpec): AdaptiveSeeds | null {
  return typeof spec.seeds === 'object' && !Array.isArray(spec.seeds) ? spec.seeds : null;
}

/** Whether a sweep of this spec plans trials while it runs (the store then leaves its end to the growth step). */
export function sweepGrows(spec: SweepSpec): boolean {
  return adaptiveSeeds(spec) !== null || isSampledSpec(spec);
}

/** The sweep's configurations, each at its point (dotted path → value): the grid's, or those a sampler chose (in its state). */
function configurationPoints(spec: SweepSpec, search: SearchState | undefined): Map<string, Record<string, GridValue>> {
  const points = new Map<string, Record<string, GridValue>>();
  if (search) {
    for (const p of search.points) if (!points.has(p.key)) points.set(p.key, p.point);
    return points;
  }
  for (const point of gridPoints(spec)) {
    const key = configKey(configFor(spec, point));
    if (!points.has(key)) points.set(key, point);
  }
  return points;
}

/** Each configuration of the sweep that has a trial, judged: counts, its interval, and whether it is near the front. */
export function configurationStates(trials: readonly TrialState[]): ConfigurationState[] {
  const by = new Map<string, ConfigurationState>();
  for (const t of trials) {
    let c = by.get(t.configKey);
    if (!c) {
      c = { configKey: t.configKey, trials: 0, active: 0, lastSeed: -1, params: null, values: [], stopped: [], mean: NaN, halfWidth: null, nearFront: false };
      by.set(t.configKey, c);
    }
    c.trials++;
    if (t.status === 'queued' || t.status === 'running') c.active++;
    c.lastSeed = Math.max(c.lastSeed, t.seed);
    if (t.status === 'succeeded' && !t.flagged && t.params !== null && t.validPpl !== null && Number.isFinite(t.validPpl)) {
      c.params ??= t.params;
      c.values.push(t.validPpl);
    }
    if ((t.status === 'pruned' || t.status === 'paused') && t.validPpl !== null) c.stopped.push(t.validPpl);
  }
  const all = [...by.values()];
  for (const c of all) {
    const ci = meanCI95(c.values);
    c.mean = ci.mean;
    c.halfWidth = Number.isFinite(ci.halfWidth) ? ci.halfWidth : null;
  }
  markNearFront(all);
  return all;
}

/**
 * How near the Pareto front (parameters × mean validation perplexity, both lower is better) a
 * configuration must be to get seeds: it is near unless another configuration with at most its
 * parameters is better beyond both 95% intervals (that one's upper end below this one's lower
 * end). The front itself is near; so is every configuration whose interval overlaps the front's
 * at its size or smaller, which more seeds could still put on it. One seed has no interval (it
 * reaches from −∞ to +∞ here): it beats no one and is beaten by no one.
 */
function markNearFront(configs: ConfigurationState[]): void {
  const judged = configs.filter((c) => c.values.length > 0 && c.params !== null).sort((x, y) => x.params! - y.params!);
  const upper = (c: ConfigurationState) => (c.halfWidth === null ? Infinity : c.mean + c.halfWidth);
  // In order of size: the least upper end among the smaller ones, and within a size the two least
  // (a configuration is not compared with itself). O(n log n).
  let smaller = Infinity;
  for (let i = 0; i < judged.length; ) {
    let j = i;
    let least = Infinity;
    let second = Infinity;
    for (; j < judged.length && judged[j]!.params === judged[i]!.params; j++) {
      const u = upper(judged[j]!);
      if (u < least) [least, second] = [u, least];
      else if (u < second) second = u;
    }
    for (let k = i; k < j; k++) {
      const c = judged[k]!;
      const lo = c.halfWidth === null ? -Infinity : c.mean - c.halfWidth;
      const others = Math.min(smaller, upper(c) === least ? second : least);
      c.nearFront = !(others < lo);
    }
    smaller = Math.min(smaller, least);
    i = j;
  }
}

/**
 * What to append to a sweep of `spec` holding `trials` (and, for a sampled sweep, its stored
 * search state): for seeds until the interval is tight, one more seed (after its highest) for
 * each configuration whose seeds have all finished (none queued or running), that has a
 * succeeded seed, fewer than `max` trials, an interval wider than ±ciHalfWidth (or a single
 * value), and is near the front (markNearFront) — with the baseline (and control) each new seed
 * needs; then, for a sampled sweep, the sampler's new configurations (planSearch). Nothing for a
 * sweep that does not grow.
 */
export function planGrowth(spec: SweepSpec, trials: readonly TimedTrial[], storedSearch?: unknown): GrowthDecision {
  const seeds = adaptiveSeeds(spec);
  const sampled = isSampledSpec(spec);
  if (!seeds && !sampled) return { plans: [], seeded: [] };
  const search = sampled ? readSearchState(storedSearch) : undefined;
  const states = new Map(configurationStates(trials).map((c) => [c.configKey, c]));
  const planned = new PlanIndex(trials);
  const plans: TrialPlan[] = [];
  const seeded: GrowthDecision['seeded'] = [];
  if (seeds) {
    for (const [key, point] of configurationPoints(spec, search)) {
      const c = states.get(key);
      if (!c || c.active > 0 || c.trials >= seeds.max || c.values.length === 0 || !c.nearFront) continue;
      if (c.halfWidth !== null && c.halfWidth <= seeds.ciHalfWidth) continue;
      const seed = c.lastSeed + 1;
      const added = planConfiguration(spec, point, [seed], planned);
      planned.add(added);
      plans.push(...added);
      if (added.length) seeded.push({ configKey: key, seed, seeds: c.values.length, halfWidth: c.halfWidth });
    }
  }
  if (!search) return { plans, seeded };
  const step = planSearch(spec, trials, states, search, planned, plans);
  return { plans: [...plans, ...step.plans], seeded, search: step.state, chosen: step.chosen, rejected: step.rejected, searchChanged: step.changed };
}

/** Whether a configuration's interval meets the target: a half-width at most ciHalfWidth (a single seed has none). */
export function intervalTight(halfWidth: number | null, ciHalfWidth: number): boolean {
  return halfWidth !== null && halfWidth <= ciHalfWidth;
}
