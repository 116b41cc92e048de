// A sampled sweep's growth decision alone: the sampler asked while slots are free and budget is
// left, infeasible and repeated points never queued (and counted), the sampler told each
// configuration's mean over its seeds, and a whole simulated sweep run to its end.
import { describe, expect, it } from 'vitest';
import { type SearchState, type SweepSpec, type TrialPlan } from '@lmsweep/protocol';
import { configFor, configKey } from './config.ts';
import { parseSweepSpec } from './expand.ts';
import { pointIssues } from './feasibility.ts';
import { configurationStates, planGrowth, sweepGrows, type TrialState } from './grow.ts';
import { prepareSweep } from './prepare.ts';
import { DUPLICATE_PATH, historyFor, newlyFinished } from './search-growth.ts';

const base = { name: 's', dataset: { name: 'ptb', vocabSize: 300 }, model: { embedding: 8, hidden: 8, layers: 1 } };
const sampled = (search: Record<string, unknown>, space: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  parseSweepSpec({ ...base, search: { seed: 3, ...search }, space, seeds: 2, ...extra });

const SPACE = { 'training.lr': { log_uniform: [0.0001, 0.1] }, 'model.hidden': { int: [8, 64], step: 8 } };

/** The simulated objective: best at lr 0.01 and a small hidden size; seeds differ by 0.2. */
function pplOf(config: { training: { lr: number }; model: { hidden: number } }, seed: number): number {
  return 100 + 40 * (Math.log10(config.training.lr) + 2) ** 2 + config.model.hidden / 8 + 0.2 * seed;
}

const asQueued = (plans: TrialPlan[]): (TrialState & { plan: TrialPlan })[] =>
  plans.map((p) => ({ ordinal: p.ordinal, configKey: p.configKey, seed: p.seed, status: 'queued', params: null, validPpl: null, flagged: false, plan: p }));

function finish(t: TrialState & { plan: TrialPlan }): void {
  const c = t.plan.config as unknown as { training: { lr: number }; model: { hidden: number } };
  Object.assign(t, { status: 'succeeded', params: c.model.hidden * 100, validPpl: pplOf(c, t.seed) });
}

/** Runs a sampled sweep to its end: each round, finish the oldest queued configuration's trials, then ask the growth decision. */
function simulate(spec: SweepSpec): { trials: (TrialState & { plan: TrialPlan })[]; search: SearchState; maxInFlight: number } {
  const first = prepareSweep(spec);
  const trials = asQueued(first.plans);
  let search = first.search!;
  let maxInFlight = 0;
  for (let round = 0; round < 1000; round++) {
    const inFlight = new Set(trials.filter((t) => t.status === 'queued').map((t) => t.configKey)).size;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const next = trials.find((t) => t.status === 'queued');
    if (next) for (const t of trials) if (t.configKey === next.configKey) finish(t);
    const d = planGrowth(spec, trials, search);
    search = d.search!;
    trials.push(...asQueued(d.plans));
    if (!d.plans.length && !trials.some((t) => t.status === 'queued')) return { trials, search, maxInFlight };
  }
  throw new Error('the sweep did not end');
}

describe('planGrowth: a sampled sweep', () => {
  it('grows; launch samples `parallel` feasible, distinct configurations, each with every seed, the same ones every time', () => {
    const spec = sampled({ sampler: 'random', trials: 10, parallel: 3 }, SPACE);
    expect(sweepGrows(spec)).toBe(true);
    const a = prepareSweep(spec);
    expect(a.search!.points).toHaveLength(3);
    expect(new Set(a.search!.points.map((p) => p.key)).size).toBe(3);
    expect(a.plans.map((p) => [p.ordinal, p.seed])).toEqual([[0, 0], [1, 1], [2, 0], [3, 1], [4, 0], [5, 1]]);
    for (const [i, p] of a.search!.points.entries()) {
      expect(configKey(configFor(spec, p.point))).toBe(p.key);
      expect(a.plans[2 * i]!.configKey).toBe(p.key);
      expect(pointIssues(spec, p.point)).toEqual([]);
    }
    expect(prepareSweep(spec)).toEqual(a);
    // Nothing finished and every slot taken: nothing more.
    const d = planGrowth(spec, asQueued(a.plans), a.search);
    expect(d.plans).toEqual([]);
    expect(d.chosen).toEqual([]);
  });

  it('a finished configuration frees its slot; the sampler is told its mean over its seeds; one still running stays running', () => {
    const spec = sampled({ sampler: 'tpe', trials: 10, parallel: 3 }, SPACE);
    const a = prepareSweep(spec);
    const trials = asQueued(a.plans);
    finish(trials[0]!);
    finish(trials[1]!);
    finish(trials[2]!); // the second configuration: one of two seeds
    const states = new Map(configurationStates(trials).map((c) => [c.configKey, c]));
    expect(newlyFinished(spec, trials, states, a.search!)).toEqual([a.search!.points[0]!.key]);
    const h = historyFor(spec, states, { ...a.search!, finished: [a.search!.points[0]!.key] }, 1);
    expect(h.finished).toHaveLength(1);
    expect(h.finished[0]!.values[0]).toBeCloseTo((trials[0]!.validPpl! + trials[1]!.validPpl!) / 2, 12);
    expect(h.running).toEqual([a.search!.points[1]!.point, a.search!.points[2]!.point]);
    const d = planGrowth(spec, trials, a.search);
    expect(d.chosen).toHaveLength(1);
    expect(d.plans.map((p) => [p.ordinal, p.seed])).toEqual([[6, 0], [7, 1]]);
    expect(d.search!.points).toHaveLength(4);
    expect(d.search).toMatchObject({ finished: [a.search!.points[0]!.key], seen: 1 });
  });

  it('an infeasible point is never queued, and the sweep counts it by the field at fault', () => {
    // PHM's n must divide the sizes (embedding 8, hidden 8): 3 and 5 never can.
    const spec = sampled({ sampler: 'random', trials: 12, parallel: 12 }, { method: ['phm'], 'model.phm.n': { values: [2, 3, 4, 5] }, 'training.lr': { log_uniform: [0.001, 0.1] } });
    const a = prepareSweep(spec);
    expect(a.search!.points).toHaveLength(12);
    expect(a.search!.points.every((p) => p.point['model.phm.n'] === 2 || p.point['model.phm.n'] === 4)).toBe(true);
    expect(a.plans.every((p) => [2, 4].includes((p.config.model.phm as { n: number }).n) || p.method === 'dense')).toBe(true);
    expect(a.search!.rejected).toBeGreaterThan(0);
    expect(a.search!.reasons).toEqual([{ path: 'model.phm.n', count: a.search!.rejected, example: expect.stringMatching(/divide/) }]);
  });

  it('a space with fewer configurations than the budget: each chosen once, then the search is exhausted and the sweep ends', () => {
    const spec = sampled({ sampler: 'tpe', trials: 8, parallel: 2 }, { 'model.hidden': [8, 16, 24] });
    const { trials, search } = simulate(spec);
    expect(search.points.map((p) => p.point['model.hidden']).sort()).toEqual([16, 24, 8]);
    expect(new Set(trials.map((t) => `${t.configKey}/${t.seed}`)).size).toBe(trials.length);
    expect(trials).toHaveLength(6);
    expect(search.exhausted).toMatchObject({ message: expect.stringMatching(/no new feasible point in 64 draws after 3 configurations/) });
    expect(search.reasons.map((r) => r.path)).toEqual([DUPLICATE_PATH]);
  });

  it('a simulated sweep ends with exactly `trials` configurations, never more than `parallel` in flight, and TPE finds better ones than random search', () => {
    const spec = sampled({ sampler: 'tpe', trials: 30, parallel: 3 }, SPACE);
    const { trials, search, maxInFlight } = simulate(spec);
    expect(search.points).toHaveLength(30);
    expect(trials).toHaveLength(60);
    expect(maxInFlight).toBe(3);
    expect(trials.every((t) => t.status === 'succeeded')).toBe(true);
    // Over five search seeds, TPE's best beats random search's (medians; the optimum is 101.1).
    const bestOf = (sampler: string, seed: number) => {
      const run = simulate(sampled({ sampler, trials: 30, parallel: 3, seed }, SPACE));
      return Math.min(...run.search.points.map((p) => run.trials.filter((t) => t.configKey === p.key).reduce((sum, t) => sum + t.validPpl! / 2, 0)));
    };
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[2]!;
    const seeds = [1, 2, 3, 4, 5];
    const tpe = median(seeds.map((k) => bestOf('tpe', k)));
    expect(tpe).toBeLessThan(median(seeds.map((k) => bestOf('random', k))));
    expect(tpe).toBeLessThan(104);
    // The same run again: the same configurations in the same order.
    expect(simulate(spec).search.points).toEqual(search.points);
  });

  it('a compression method\'s configuration comes with its dense baseline; a sampled dense point that is a baseline already is chosen without new trials', () => {
    // Rates svd meets on these 300×8 matrices (ranks 3 and 2).
    const spec = sampled({ sampler: 'sobol', trials: 3, parallel: 3 }, { method: ['svd', 'dense'], 'compress.rate': { values: [2.6, 3.9], when: { method: 'svd' } } }, { compress: { rate: 2.6, finetune: { maxSteps: 2 } } });
    const a = prepareSweep(spec);
    expect(a.search!.points.map((p) => p.point).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))).toEqual([
      { method: 'dense' },
      { method: 'svd', 'compress.rate': 2.6 },
      { method: 'svd', 'compress.rate': 3.9 },
    ]);
    for (const p of a.plans.filter((x) => x.method === 'svd')) expect(a.plans.find((b) => b.ordinal === p.parentOrdinal)!.method).toBe('dense');
    // One dense configuration: one trial per seed, shared by the sampled dense point and both
    // baselines; the dense + fine-tune control (a launch's default) once per seed, shared by both rates.
    expect(a.plans.map((p) => p.method).sort()).toEqual(['dense', 'dense', 'dense-finetune', 'dense-finetune', 'svd', 'svd', 'svd', 'svd']);
  });

  it('Sobol over a space with infeasible regions reaches its budget, each infeasible point drawn once', () => {
    const spec = sampled({ sampler: 'sobol', trials: 200, parallel: 2 }, { method: ['phm'], 'model.phm.n': { values: [2, 3, 4, 5] }, 'training.lr': { log_uniform: [0.001, 0.1] } });
    const { search } = simulate(spec);
    expect(search.points).toHaveLength(200);
    expect(search.exhausted).toBeUndefined();
    expect(search.rejected).toBe(search.draws - 200);
    expect(search.rejected).toBeLessThan(300); // half the draws land on n = 3 or 5
  });

  it('seeds until the interval is tight with a search: the seeded configurations take slots, never more than `parallel` in flight', () => {
    const spec = sampled({ sampler: 'random', trials: 30, parallel: 3 }, SPACE, { seeds: { min: 2, max: 6, ciHalfWidth: 1e-4 } });
    const { search, maxInFlight } = simulate(spec);
    expect(search.points).toHaveLength(30);
    expect(maxInFlight).toBe(3);
  });

  it('a sampled dense point that is the baseline of a configuration chosen in the same step takes a slot: launch fills `parallel`, no more', () => {
    for (const seed of [15, 23, 24, 27, 31, 34, 37]) {
      const spec = sampled({ sampler: 'random', trials: 20, parallel: 2, seed }, { method: ['svd', 'dense'], 'compress.rate': { values: [2.6, 3.9], when: { method: 'svd' } }, 'model.hidden': [8, 16] }, { compress: { rate: 2.6, finetune: { maxSteps: 2 } } });
      const a = prepareSweep(spec);
      expect(a.search!.points.length, `seed ${seed}`).toBe(2);
    }
  });

  it('exhausted: no more draws (and no more rejections counted) until another configuration finishes or the budget grows', () => {
    const spec = sampled({ sampler: 'random', trials: 8, parallel: 4 }, { 'model.hidden': [8, 16] });
    const a = prepareSweep(spec);
    expect(a.search).toMatchObject({ exhausted: { finished: 0, budget: 8 } });
    const trials = asQueued(a.plans);
    const again = planGrowth(spec, trials, a.search);
    expect([again.plans, again.rejected, again.searchChanged]).toEqual([[], 0, false]);
    finish(trials[0]!);
    finish(trials[1]!);
    const later = planGrowth(spec, trials, a.search);
    expect(later.searchChanged).toBe(true);
    expect(later.rejected).toBe(64);
    expect(later.search!.exhausted).toMatchObject({ finished: 1 });
  });

  it('the same results in the same order give the same choices, however the steps batch them', () => {
    const spec = sampled({ sampler: 'tpe', trials: 24, parallel: 3 }, SPACE);
    /** Finishes the oldest in-flight configuration `batch` at a time before each growth step. */
    const run = (batch: number) => {
      const first = prepareSweep(spec);
      const trials = asQueued(first.plans);
      let search = first.search!;
      for (let round = 0; round < 200; round++) {
        for (let b = 0; b < batch; b++) {
          const next = trials.find((t) => t.status === 'queued');
          if (next) for (const t of trials) if (t.configKey === next.configKey) finish(t);
        }
        const d = planGrowth(spec, trials, search);
        search = d.search!;
        trials.push(...asQueued(d.plans));
        if (!d.plans.length && !trials.some((t) => t.status === 'queued')) break;
      }
      return search.points;
    };
    const one = run(1);
    expect(one).toHaveLength(24);
    expect(run(2)).toEqual(one);
    expect(run(3)).toEqual(one);
  });
});

