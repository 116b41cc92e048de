// What a sampled sweep shows of its search: the sampler and its budget, the configurations in
// flight, the points it could not queue, the best configuration so far, and after each finished
// configuration (in the order they finished) the best validation perplexity and the hypervolume
// of the front of parameters against perplexity — the number samplers are compared by. Pure: the
// sweep's spec, stored trials and search state in.
import { hypervolume2d, type Pair, referencePoint } from '@lmsweep/search';
import { readSearchState, type SearchState, type SweepSpec } from '@lmsweep/protocol';
import { seedList } from './expand.ts';
import { configurationStates, type TrialState } from './grow.ts';

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
  /** One point per finished configuration, in the order they finished. */
  trace: SearchTracePoint[];
  /** The hypervolume's reference point: past the worst finished parameters and perplexity by a tenth of their spread. */
  reference: [number, number] | null;
}

/** A trial state with the time it ended (the trace's order). */
export type TimedTrialState = TrialState & { finishedAt: Date | null };

/**
 * The search's progress. A configuration has finished once as many of its trials ended as the
 * spec's first seeds (as the sampler counts it); the trace orders them by the time that
 * happened (ties: the order they were chosen) and uses each one's mean as it is now.
 */
export function searchProgress(spec: SweepSpec, trials: readonly TimedTrialState[], storedSearch: unknown): SearchProgress | null {
  const search = spec.search;
  if (!search || !spec.space) return null;
  const state = readSearchState(storedSearch);
  const states = new Map(configurationStates(trials).map((c) => [c.configKey, c]));
  const firstSeeds = seedList(spec).length;
  const ends = new Map<string, number[]>();
  for (const t of trials) if (t.finishedAt && t.status !== 'queued' && t.status !== 'running') ends.set(t.configKey, [...(ends.get(t.configKey) ?? []), t.finishedAt.getTime()]);
  const done: { key: string; at: number; order: number; ppl: number | null; params: number | null }[] = [];
  let inFlight = 0;
  state.points.forEach((p, order) => {
    const c = states.get(p.key);
    if (c && c.active > 0) inFlight++;
    const times = (ends.get(p.key) ?? []).sort((a, b) => a - b);
    const need = Math.min(firstSeeds, c?.trials ?? 0);
    if (!c || need === 0 || times.length < need) return;
    const ppl = c.values.length ? c.mean : null;
    done.push({ key: p.key, at: times[need - 1]!, order, ppl, params: ppl === null ? null : c.params });
  });
  done.sort((a, b) => a.at - b.at || a.order - b.order);
  const pairs: Pair[] = done.filter((d) => d.ppl !== null && d.params !== null).map((d) => [d.params!, d.ppl!]);
  const reference = pairs.length ? (referencePoint(pairs) as [number, number]) : null;
  const trace: SearchTracePoint[] = [];
  const front: Pair[] = [];
  let best: number | null = null;
  let hv = 0;
  for (const [i, d] of done.entries()) {
    if (d.ppl !== null) best = best === null ? d.ppl : Math.min(best, d.ppl);
    if (reference && d.ppl !== null && d.params !== null && !front.some(([x, y]) => x <= d.params! && y <= d.ppl!)) {
      // The front stays small: recomputing its hypervolume per new member is cheap.
      const kept = front.filter(([x, y]) => !(d.params! <= x && d.ppl! <= y));
      kept.push([d.params, d.ppl]);
      front.splice(0, front.length, ...kept);
      hv = hypervolume2d(front, reference);
    }
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
    exhausted: state.exhausted ?? null,
    best: top ? { configKey: top.key, point: state.points[top.order]!.point, validPpl: top.ppl!, params: top.params, seeds: states.get(top.key)!.values.length } : null,
    trace,
    reference,
  };
}
