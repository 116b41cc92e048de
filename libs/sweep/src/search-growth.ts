// The sampler's part of a sampled sweep's growth: while fewer than `search.parallel` of its
// configurations are in flight and fewer than `search.trials` have been chosen, ask the sampler
// (libs/search) for a point, check it can run (feasibility.ts: an infeasible point is never
// queued), and plan its trials for the spec's seeds (planConfiguration, baselines included).
// Pure: the sweep's stored trials and search state in, the trials to append and the new state
// out. The same spec, trials and state give the same suggestions: each draw's generator is
// seeded by (search.seed, configurations chosen so far, attempt).
import { compileSpace, type Observation, type Point, rngFor, type SamplerSettings, suggest } from '@lmsweep/search';
import { type FieldIssue, MAX_REASONS, type SearchPoint, type SearchState, type SweepSpec, type TrialPlan } from '@lmsweep/protocol';
import { configFor, configKey } from './config.ts';
import { seedList } from './expand.ts';
import { pointIssues } from './feasibility.ts';
import type { ConfigurationState } from './grow.ts';
import { type PlanIndex, planConfiguration } from './plan.ts';

/** Draws for one configuration before the search gives up on finding a new feasible point. */
export const MAX_DRAWS = 64;

/** The reason path of a point that is a configuration chosen before. */
export const DUPLICATE_PATH = 'configKey';

export interface SearchStep {
  plans: TrialPlan[];
  /** The search state with this step's choices and rejections. */
  state: SearchState;
  /** The configurations chosen in this step. */
  chosen: SearchPoint[];
  /** Points drawn and not queued in this step. */
  rejected: number;
}

/**
 * Whether a chosen configuration has finished for the sampler: as many of its trials ended as
 * the spec's first seeds (seeds until the interval is tight: min), so later seeds only refine it.
 */
function hasFinished(c: ConfigurationState | undefined, firstSeeds: number): boolean {
  return !c || c.trials - c.active >= Math.min(firstSeeds, c.trials);
}

/** A finished configuration's objective values: the mean over its succeeded seeds (NaN: none succeeded). */
function objectiveValues(spec: SweepSpec, c: ConfigurationState | undefined): number[] {
  const ppl = c && c.values.length ? c.mean : NaN;
  return spec.search!.objectives.map((o) => (o === 'validPpl' ? ppl : c && c.values.length && c.params !== null ? c.params : NaN));
}

/** What the sampler is told of a sampled sweep: its finished configurations (in the order they were chosen) and those in flight. */
export function searchHistory(spec: SweepSpec, states: ReadonlyMap<string, ConfigurationState>, points: readonly SearchPoint[]): { finished: Observation[]; running: Point[]; inFlight: number } {
  const firstSeeds = seedList(spec).length;
  const finished: Observation[] = [];
  const running: Point[] = [];
  let inFlight = 0;
  for (const p of points) {
    const c = states.get(p.key);
    if (c && c.active > 0) inFlight++;
    if (hasFinished(c, firstSeeds)) finished.push({ point: p.point, values: objectiveValues(spec, c) });
    else running.push(p.point);
  }
  return { finished, running, inFlight };
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
 * search.parallel configurations in flight) and budget is left (fewer than search.trials
 * chosen), planning each one's trials against `planned` (which it updates). A drawn point that
 * cannot run (pointIssues) or is a configuration chosen before is not queued: it is counted in
 * the state by reason, and the sampler is asked again with it counted as running (so neither
 * TPE nor Sobol's next draw lands there again); after MAX_DRAWS such draws for one
 * configuration the search is marked exhausted and stops. A configuration whose trials exist
 * already (e.g. the dense baseline of another) adds none, and counts as chosen.
 */
export function planSearch(spec: SweepSpec, states: ReadonlyMap<string, ConfigurationState>, stored: SearchState, planned: PlanIndex): SearchStep {
  const search = spec.search!;
  const space = compileSpace(spec.space!);
  const settings: SamplerSettings = { sampler: search.sampler, seed: search.seed };
  const { finished, running, inFlight: busy } = searchHistory(spec, states, stored.points);
  let inFlight = busy;
  let state: SearchState = { ...stored, points: [...stored.points] };
  delete state.exhausted;
  const keys = new Set(stored.points.map((p) => p.key));
  const seeds = seedList(spec);
  const plans: TrialPlan[] = [];
  const chosen: SearchPoint[] = [];
  let rejected = 0;
  while (inFlight < search.parallel && state.points.length < search.trials) {
    const refused: Point[] = [];
    let pick: SearchPoint | null = null;
    for (let draw = 0; draw < MAX_DRAWS && !pick; draw++) {
      const point = suggest(space, settings, { finished, running: [...running, ...refused] }, rngFor(search.seed, state.points.length, draw));
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
      state.exhausted = `no new feasible point in ${MAX_DRAWS} draws after ${state.points.length} configurations`;
      break;
    }
    const added = planConfiguration(spec, pick.point, seeds, planned);
    planned.add(added);
    plans.push(...added);
    state.points.push(pick);
    keys.add(pick.key);
    chosen.push(pick);
    const c = states.get(pick.key);
    if (added.length || (c && c.active > 0)) {
      inFlight++;
      running.push(pick.point);
    } else finished.push({ point: pick.point, values: objectiveValues(spec, c) });
  }
  return { plans, state, chosen, rejected };
}
