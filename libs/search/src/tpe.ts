// The Tree-structured Parzen Estimator (Bergstra et al. 2011), multivariate: finished trials
// split into the good γ and the rest; one Parzen estimator over the whole (conditional, mixed)
// space for each; candidates drawn from the good one, the one with the largest l(x)/g(x) chosen.
// Running trials join the rest (a constant liar: they count as bad until they finish), so
// suggestions made while others run move away from those points.
import { ParzenEstimator, type ParzenOptions, scottBandwidth } from './parzen.ts';
import type { Rng } from './rng.ts';
import type { History, Observation } from './history.ts';
import { pointFromUnits, type Point, type Space, type SpaceValue } from './space.ts';
import { splitPareto, splitSingle } from './split.ts';

export interface TpeSettings {
  /** Finished trials before TPE takes over from uniform draws. */
  startup: number;
  /** Candidates drawn from l(x) for each suggestion. */
  candidates: number;
  /** How many finished trials count as good, out of n. */
  gamma: (n: number) => number;
  parzen: ParzenOptions;
  /** Fit a conditional parameter's marginal on the trials that have it (split among themselves), not on the good or bad set's. */
  branchMarginals: boolean;
}

/**
 * Defaults chosen on `lmsweep bench search`'s functions with seeds apart from the bench's own
 * (1000–1039 and 2000–2039): the good set is the best 12% (at most 25); numeric kernels as wide
 * as Scott's rule on the good points' spread (at least a tenth of the range before shrinking),
 * which beat Optuna's fixed-width multivariate rule on Branin and Hartmann-6; categorical
 * kernels smoothed by 0.6/√(n + 1), which let the search leave a deceptive branch of a
 * conditional space (the `mixed` function) more often than 1/(n + 1) did.
 */
export const TPE_DEFAULTS: TpeSettings = {
  startup: 10,
  candidates: 24,
  gamma: (n) => Math.min(Math.ceil(0.12 * n), 25),
  parzen: { priorWeight: 1, bandwidth: scottBandwidth(1, 0.1), categoricalSmoothing: 0.6 },
  branchMarginals: true,
};

/**
 * The next point for a history of finished trials (values: one per objective, minimized; NaN
 * for a diverged one) and running ones. One objective: TPE; two: MOTPE's split by Pareto rank
 * and hypervolume (split.ts).
 */
export function suggestTpe(space: Space, history: History, rng: Rng, settings: TpeSettings = TPE_DEFAULTS): Point {
  const { finished, running } = history;
  if (finished.length < settings.startup) return pointFromUnits(space, () => rng.next());
  const n = finished.length;
  const nBelow = Math.max(1, Math.min(n, settings.gamma(n)));
  const objectives = finished[0]!.values.length;
  const split = (obs: readonly Observation[], k: number) =>
    objectives === 1 ? splitSingle(obs.map((o) => o.values[0]!), k) : splitPareto(obs.map((o) => [o.values[0]!, o.values[1]!] as const), k);
  const { below, above } = split(finished, nBelow);
  const good = below.map((i) => finished[i]!.point);
  const bad = [...above.map((i) => finished[i]!.point), ...running];
  // A conditional parameter's marginal: split among the trials that have it, so a branch of the
  // space is modelled by its own best trials even when none of them is among the best overall.
  const goodMarginals = new Map<string, { values: SpaceValue[]; weights: number[] }>();
  const badMarginals = new Map<string, { values: SpaceValue[]; weights: number[] }>();
  if (settings.branchMarginals) {
    for (const p of space.params) {
      if (!p.when) continue;
      const having = finished.filter((o) => Object.hasOwn(o.point, p.name));
      const parts = split(having, Math.min(having.length, Math.max(1, settings.gamma(having.length))));
      const values = (idx: number[]) => idx.map((i) => having[i]!.point[p.name]!);
      goodMarginals.set(p.name, { values: values(parts.below), weights: parts.below.map(() => 1) });
      const badValues = [...values(parts.above), ...running.filter((r) => Object.hasOwn(r, p.name)).map((r) => r[p.name]!)];
      badMarginals.set(p.name, { values: badValues, weights: badValues.map(() => 1) });
    }
  }
  const l = new ParzenEstimator(space, good, good.map(() => 1), settings.parzen, goodMarginals);
  const g = new ParzenEstimator(space, bad, bad.map(() => 1), settings.parzen, badMarginals);
  let best: Point | undefined;
  let bestScore = -Infinity;
  for (let c = 0; c < settings.candidates; c++) {
    const x = l.sample(rng);
    const score = l.logDensity(x) - g.logDensity(x);
    if (best === undefined || score > bestScore) {
      best = x;
      bestScore = score;
    }
  }
  return best!;
}
