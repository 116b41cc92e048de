// What a sampled sweep shows of its search: the sampler and its budget, the configurations in
// flight, the points it could not queue, the best configuration so far, and after each finished
// configuration (in the order they finished) the best validation perplexity and the hypervolume
// of the front of parameters against perplexity — the number samplers are compared by. Pure: the
// sweep's spec, stored trials and search state in.
import { Front2d, type Pair, referencePoint } from '@lmsweep/search';
import { readSearchState, type SearchState, type SweepSpec } from '@lmsweep/protocol';
import { configurationStates } from './grow.ts';
import { newlyFinished, type TimedTrial } from './search-growth.ts';

export interface SearchTracePoint {
  /** Configurations finished, this one included. */
  finished: number;
  configKey: string;
  /** Its mean over its succeeded seeds (null: none succeeded) and parameter count. */
  validPpl: number | null;
  params: number | null;
  /** The best mean validation perplexity of the configurations finished so far. */
  best: number | null;
  /** Hypervolume of their front (parameters × perplexity) against `reference`. */
  hypervolume: number | null;
}

export interface SearchProgress {
  sampler: string;
  objectives: string[];
  seed: number;
  /** Configurations to try (search.trials), chosen so far, finished, in flight (at most `parallel`). */
  budget: number;
  chosen: number;
  finished: number;
  inFlight: number;
  parallel: number;
  rejected: number;
  reasons: SearchState['reasons'];
  exhausted: string | null;
  /** The finished configuration with the lowest mean validation perplexity. */
  best: { configKey: string; point: Record<string, string | number | boolean>; validPpl: number; params: number | null; seeds: number } | null;
  /** One point per finished configuration, in the order they finished (thinned to MAX_TRACE). */
  trace: SearchTracePoint[];
  /** The hypervolume's reference point: search.reference, or past the worst finished parameters and perplexity by a tenth of their spread. */
  reference: [number, number] | null;
}

/** A trial state with the time it ended (the order configurations finish in). */
export type TimedTrialState = TimedTrial;

/** Most points of the trace a view carries (a longer search is thinned evenly, its last point kept). */
export const MAX_TRACE = 1000;

/**
 * The search's progress. Configurations count as finished in the order the growth step recorded
 * (state.finished), then any it has not recorded yet, as the sampler counts them; the trace uses
 * each one's mean as it is now. The hypervolume's reference is search.reference, or past the
 * worst finished configuration in each objective by a tenth of their spread (it moves as
 * configurations finish: fix search.reference to compare sweeps).
 */
export function searchProgress(spec: SweepSpec, trials: readonly TimedTrialState[], storedSearch: unknown): SearchProgress | null {
  const search = spec.search;
  if (!search || !spec.space) return null;
  const state = readSearchState(storedSearch);
  const states = new Map(configurationStates(trials).map((c) => [c.configKey, c]));
  const orderOf = new Map(state.points.map((p, i) => [p.key, i]));
  const keys = [...state.finished, ...newlyFinished(spec, trials, states, state)].filter((k) => orderOf.has(k));
  const inFlight = state.points.filter((p) => (states.get(p.key)?.active ?? 0) > 0).length;
  const done = keys.map((key) => {
    const c = states.get(key);
    const ppl = c && c.values.length ? c.mean : null;
    return { key, order: orderOf.get(key)!, ppl, params: ppl === null ? null : (c!.params ?? null) };
  });
  const pairs: Pair[] = done.filter((d) => d.ppl !== null && d.params !== null).map((d) => [d.params!, d.ppl!]);
  const reference: [number, number] | null = search.reference ? [search.reference[0], search.reference[1]] : pairs.length ? (referencePoint(pairs) as [number, number]) : null;
  const trace: SearchTracePoint[] = [];
  const front = new Front2d();
  let best: number | null = null;
  let hv = 0;
  for (const [i, d] of done.entries()) {
    if (d.ppl !== null) best = best === null ? d.ppl : Math.min(best, d.ppl);
    if (reference && d.ppl !== null && d.params !== null && front.add(d.params, d.ppl)) hv = front.hypervolume(reference);
    trace.push({ finished: i + 1, configKey: d.key, validPpl: d.ppl, params: d.params, best, hypervolume: reference ? hv : null });
  }
  const top = done.filter((d) => d.ppl !== null).sort((a, b) => a.ppl! - b.ppl! || a.order - b.order)[0];
  return {
    sampler: search.sampler,
    objectives: search.objectives,
    seed: search.seed,
    budget: search.trials,
    chosen: state.points.length,
    finished: done.length,
    inFlight,
    parallel: search.parallel,
    rejected: state.rejected,
    reasons: state.reasons,
    exhausted: state.exhausted?.message ?? null,
    best: top ? { configKey: top.key, point: state.points[top.order]!.point, validPpl: top.ppl!, params: top.params, seeds: states.get(top.key)!.values.length } : null,
    trace: thin(trace),
    reference,
  };
}

/** At most MAX_TRACE points, evenly spaced, the last one kept. */
function thin(trace: SearchTracePoint[]): SearchTracePoint[] {
  if (trace.length <= MAX_TRACE) return trace;
  const step = trace.length / MAX_TRACE;
  const out = Array.from({ length: MAX_TRACE - 1 }, (_, i) => trace[Math.floor(i * step)]!);
  out.push(trace[trace.length - 1]!);
  return out;
}
