// The sampler's part of a sampled sweep's growth: while fewer than `search.parallel` of its
// configurations are in flight and fewer than `search.trials` have been chosen, ask the sampler
// (libs/search) for a point, check it can run (feasibility.ts: an infeasible point is never
// queued), and plan its trials for the spec's seeds (planConfiguration, baselines included).
// Pure: the sweep's stored trials and search state in, the trials to append and the new state
// out (planSearch says how the same results in the same order give the same choices).
import { compileSpace, type Observation, type Point, rngFor, type SamplerSettings, suggest } from '@lmsweep/search';
import { type FieldIssue, MAX_REASONS, MAX_TRIALS_PER_SWEEP, type SearchPoint, type SearchState, type SweepSpec, type TrialPlan } from '@lmsweep/protocol';
import { configFor, configKey } from './config.ts';
import { seedList } from './expand.ts';
import { pointIssues } from './feasibility.ts';
import type { ConfigurationState, TrialState } from './grow.ts';
import { type PlanIndex, planConfiguration } from './plan.ts';
import { trialsPerSeed } from './sampled-spec.ts';

/** Draws for one configuration before the search gives up on finding a new feasible point. */
export const MAX_DRAWS = 64;

/** The reason path of a point that is a configuration chosen before. */
export const DUPLICATE_PATH = 'configKey';

export interface SearchStep {
  plans: TrialPlan[];
  /** The search state after this step: its choices, the configurations that finished, its rejections. */
  state: SearchState;
  /** The configurations chosen in this step. */
  chosen: SearchPoint[];
  /** Points drawn and not queued in this step. */
  rejected: number;
  /** Whether the state differs from the stored one (then store it). */
  changed: boolean;
}

/** A trial state with the time it ended, when it has (the order configurations finish in). */
export type TimedTrial = TrialState & { finishedAt?: Date | null };

/**
 * Whether a chosen configuration has finished for the sampler: as many of its trials ended as
 * the spec's first seeds (seeds until the interval is tight: min), so later seeds only refine it.
 */
export function hasFinished(c: ConfigurationState | undefined, firstSeeds: number): boolean {
  return c !== undefined && c.trials > c.active && c.trials - c.active >= Math.min(firstSeeds, c.trials);
}

/**
 * A finished configuration's objective values: the mean over its succeeded seeds; with none, and
 * seeds stopped early by the pruner, the mean of their last values (an observation at their rung,
 * worse than a finished run's as a rung comes before the end; NaN: neither).
 */
function objectiveValues(spec: SweepSpec, c: ConfigurationState | undefined): number[] {
  const early = c && c.stopped.length ? c.stopped.reduce((a, b) => a + b, 0) / c.stopped.length : NaN;
  const ppl = c && c.values.length ? c.mean : early;
  return spec.search!.objectives.map((o) => (o === 'validPpl' ? ppl : c && c.values.length && c.params !== null ? c.params : NaN));
}

/**
 * The chosen configurations that have finished since the state was stored, in the order they
 * did: by the time the trial that completed their first seeds ended, then the order they were
 * chosen (a growth step that sees several finish at once records them as if one by one).
 */
export function newlyFinished(spec: SweepSpec, trials: readonly TimedTrial[], states: ReadonlyMap<string, ConfigurationState>, state: SearchState): string[] {
  const firstSeeds = seedList(spec).length;
  const known = new Set(state.finished);
  const fresh = state.points.map((p, order) => ({ key: p.key, order })).filter((p) => !known.has(p.key) && hasFinished(states.get(p.key), firstSeeds));
  if (!fresh.length) return [];
  const ends = new Map<string, number[]>();
  const wanted = new Set(fresh.map((f) => f.key));
  for (const t of trials) {
    if (!wanted.has(t.configKey) || t.status === 'queued' || t.status === 'running') continue;
    ends.set(t.configKey, [...(ends.get(t.configKey) ?? []), t.finishedAt ? t.finishedAt.getTime() : 0]);
  }
  const at = (key: string) => {
    const times = (ends.get(key) ?? [0]).sort((x, y) => x - y);
    return times[Math.min(firstSeeds, times.length) - 1] ?? 0;
  };
  return fresh.map((f) => ({ ...f, at: at(f.key) })).sort((x, y) => x.at - y.at || x.order - y.order).map((f) => f.key);
}

/** What a choice is told: the first `seen` finished configurations (their mean over seeds, as objectives), every other chosen one as running. */
export function historyFor(spec: SweepSpec, states: ReadonlyMap<string, ConfigurationState>, state: SearchState, seen: number): { finished: Observation[]; running: Point[] } {
  const pointOf = new Map(state.points.map((p) => [p.key, p.point]));
  const told = state.finished.slice(0, seen);
  const toldSet = new Set(told);
  return {
    finished: told.map((k) => ({ point: pointOf.get(k)!, values: objectiveValues(spec, states.get(k)) })),
    running: state.points.filter((p) => !toldSet.has(p.key)).map((p) => p.point),
  };
}

function withReason(state: SearchState, issue: FieldIssue): SearchState {
  const reasons = state.reasons.map((r) => ({ ...r }));
  const path = reasons.some((r) => r.path === issue.path) || reasons.length < MAX_REASONS - 1 ? issue.path : 'other';
  const example = (issue.path === path ? issue.message : `${issue.path}: ${issue.message}`).slice(0, 500);
  const r = reasons.find((x) => x.path === path);
  if (r) {
    r.count++;
    r.example = example;
  } else reasons.push({ path, count: 1, example });
  return { ...state, rejected: state.rejected + 1, reasons };
}

/**
 * Chooses configurations for a sampled sweep of `spec` while slots are free (fewer than
 * search.parallel configurations with a trial queued or running, or given one earlier in this
 * step: `earlier`, e.g. seeds until the interval is tight) and budget is left (fewer than
 * search.trials chosen), planning each one's trials against `planned` (which it updates).
 *
 * What each choice is told: the configurations finished (state.finished, in the order they
 * finished) up to one more than the choice before it was told, the rest as running — so the same
 * results in the same order give the same choices however the coordinator batched them into
 * steps. Each draw's generator is rngFor(search.seed, draws so far), Sobol's index the draw count.
 *
 * A drawn point that cannot run (pointIssues) or is a configuration chosen before is not queued:
 * it is counted by reason, and the sampler is asked again with it counted as running; after
 * MAX_DRAWS such draws for one configuration (or when the next configuration's trials would pass
 * MAX_TRIALS_PER_SWEEP) the search is marked exhausted, and draws again only once more have
 * finished or the budget grew. A configuration whose trials exist already (e.g. the dense
 * baseline of another) adds none, and counts as chosen.
 */
export function planSearch(spec: SweepSpec, trials: readonly TimedTrial[], states: ReadonlyMap<string, ConfigurationState>, stored: SearchState, planned: PlanIndex, earlier: readonly TrialPlan[] = []): SearchStep {
  const search = spec.search!;
  const firstSeeds = seedList(spec).length;
  let state: SearchState = { ...stored, points: [...stored.points], finished: [...stored.finished, ...newlyFinished(spec, trials, states, stored)] };
  const plans: TrialPlan[] = [];
  const chosen: SearchPoint[] = [];
  let rejected = 0;
  const busy = new Set(earlier.map((p) => p.configKey));
  let inFlight = state.points.filter((p) => (states.get(p.key)?.active ?? 0) > 0 || busy.has(p.key)).length;
  const stale = state.exhausted && state.exhausted.finished === state.finished.length && state.exhausted.budget === search.trials;
  if (!stale) delete state.exhausted;
  if (!stale && inFlight < search.parallel && state.points.length < search.trials) {
    const space = compileSpace(spec.space!);
    const settings: SamplerSettings = { sampler: search.sampler, seed: search.seed };
    const keys = new Set(state.points.map((p) => p.key));
    const seeds = seedList(spec);
    while (inFlight < search.parallel && state.points.length < search.trials) {
      if (trials.length + earlier.length + plans.length + seeds.length * trialsPerSeed(spec) > MAX_TRIALS_PER_SWEEP) {
        state.exhausted = { message: `the sweep holds ${trials.length + earlier.length + plans.length} trials; another configuration could pass the ${MAX_TRIALS_PER_SWEEP} a sweep may hold`, finished: state.finished.length, budget: search.trials };
        break;
      }
      const seen = Math.min(state.seen + 1, state.finished.length);
      const { finished, running } = historyFor(spec, states, state, seen);
      const refused: Point[] = [];
      let pick: SearchPoint | null = null;
      for (let draw = 0; draw < MAX_DRAWS && !pick; draw++) {
        const point = suggest(space, settings, { finished, running: [...running, ...refused], drawn: state.draws }, rngFor(search.seed, state.draws));
        state = { ...state, draws: state.draws + 1 };
        const issues = pointIssues(spec, point);
        const key = issues.length ? '' : configKey(configFor(spec, point));
        if (!issues.length && !keys.has(key)) {
          pick = { key, point: { ...point } };
          break;
        }
        state = withReason(state, issues[0] ?? { path: DUPLICATE_PATH, message: `configuration ${key} was chosen before` });
        rejected++;
        refused.push(point);
      }
      if (!pick) {
        state.exhausted = { message: `no new feasible point in ${MAX_DRAWS} draws after ${state.points.length} configurations`, finished: state.finished.length, budget: search.trials };
        break;
      }
      state.seen = seen;
      const added = planConfiguration(spec, pick.point, seeds, planned);
      planned.add(added);
      plans.push(...added);
      state.points.push(pick);
      keys.add(pick.key);
      chosen.push(pick);
      const c = states.get(pick.key);
      const planningNow = added.length > 0 || busy.has(pick.key) || plans.some((p) => p.configKey === pick.key);
      if (planningNow || (c?.active ?? 0) > 0) inFlight++;
      else if (hasFinished(c, firstSeeds)) state.finished.push(pick.key);
    }
  }
  const changed =
    chosen.length > 0 ||
    rejected > 0 ||
    state.finished.length !== stored.finished.length ||
    state.seen !== stored.seen ||
    state.draws !== stored.draws ||
    JSON.stringify(state.exhausted) !== JSON.stringify(stored.exhausted);
  return { plans, state, chosen, rejected, changed };
}
