import { describe, expect, it } from 'vitest';
import { analyzeSweep, type AnalysisInput } from './analysis.ts';

const SPEC = { name: 'a', grid: { method: ['svd', 'groupreduce'], 'training.lr': [0.01, 0.1, 1] } };

/** A finished trial: perplexity 100 + 50·|log10 lr + 1| (+10 for svd) + seed; params 1000 (svd) or 800. */
function trial(i: number, method: string, lr: number, seed: number, over: Partial<AnalysisInput> = {}): AnalysisInput {
  const ppl = 100 + 50 * Math.abs(Math.log10(lr) + 1) + (method === 'svd' ? 10 : 0) + seed;
  return {
    id: `t${i}`,
    ordinal: i,
    status: 'succeeded',
    method,
    configKey: `${method}/${lr}`,
    seed,
    config: { method, training: { lr } },
    params: method === 'svd' ? 1000 : 800,
    validPpl: ppl,
    testPpl: ppl * 0.97,
    finishedAt: new Date(1_000_000 + (100 - i) * 1000),
    steps: 300,
    rung: null,
    promotions: 0,
    segments: [],
    curve: [100, 200, 300].map((step) => ({ step, value: ppl * (1 + 100 / step) })),
    ...over,
  };
}

function sweep(): AnalysisInput[] {
  const out: AnalysisInput[] = [];
  for (const method of ['svd', 'groupreduce']) for (const lr of [0.01, 0.1, 1]) for (const seed of [0, 1]) out.push(trial(out.length + 1, method, lr, seed));
  return out;
}

describe('analyzeSweep', () => {
  it('parameters from the grid: method categorical, lr numeric on a log axis; each row its values', () => {
    const a = analyzeSweep(SPEC, sweep());
    expect(a.parameters).toEqual([
      { key: 'method', short: 'method', kind: 'categorical', values: ['svd', 'groupreduce'] },
      { key: 'training.lr', short: 'lr', kind: 'numeric', min: 0.01, max: 1, log: true },
    ]);
    expect(a.rows[0]).toMatchObject({ id: 't1', values: ['svd', 0.01], seed: 0, params: 1000 });
  });

  it('history: in the order trials finished, the best succeeded value so far and the hypervolume growing with it; a pruned trial is a point, never the best', () => {
    const trials = sweep();
    trials[11] = { ...trials[11]!, status: 'pruned', validPpl: 50, steps: 100 };
    const a = analyzeSweep(SPEC, trials);
    // Trial 12 finished first (finishedAt falls with the ordinal).
    expect(a.history.map((h) => h.ordinal)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(a.history[0]).toMatchObject({ status: 'pruned', validPpl: 50, best: null });
    const bests = a.history.map((h) => h.best).filter((b) => b !== null) as number[];
    for (let i = 1; i < bests.length; i++) expect(bests[i]).toBeLessThanOrEqual(bests[i - 1]!);
    expect(a.history.at(-1)!.best).toBe(100); // groupreduce lr 0.1 seed 0
    const hv = a.history.map((h) => h.hypervolume!);
    for (let i = 1; i < hv.length; i++) expect(hv[i]).toBeGreaterThanOrEqual(hv[i - 1]!);
    expect(a.reference).not.toBeNull();
  });

  it('importance: lr explains more of the perplexity than the method (50 against 10 per step), both named, shares summing to 1', () => {
    const a = analyzeSweep(SPEC, sweep());
    expect(a.importance!.method).toMatch(/random-forest/);
    expect(a.importance!.trials).toBe(12);
    expect(a.importance!.items.map((x) => x.key)).toEqual(['training.lr', 'method']);
    expect(a.importance!.items.reduce((s, x) => s + x.importance, 0)).toBeCloseTo(1, 12);
  });

  it('curves: the best maxCurves by their last value, thinned, in ordinal order; where each paused, resumed and stopped', () => {
    const trials = sweep();
    trials[0] = { ...trials[0]!, status: 'pruned', steps: 200, segments: [{ attempt: 1, through: 100 }, { attempt: 2, through: 200 }], curve: trials[0]!.curve.slice(0, 2) };
    trials[1] = { ...trials[1]!, status: 'succeeded', promotions: 1, segments: [{ attempt: 1, through: 200 }] };
    trials[2] = { ...trials[2]!, curve: Array.from({ length: 1000 }, (_, i) => ({ step: i + 1, value: i === 500 ? Number.NaN : 1000 - i })) };
    const all = analyzeSweep(SPEC, trials, { curvePoints: 20 });
    expect(all.curvesTotal).toBe(12);
    const c = new Map(all.curves.map((x) => [x.trialId, x]));
    expect(c.get('t1')).toMatchObject({ status: 'pruned', stoppedAt: 200, resumedAt: [100] });
    expect(c.get('t2')).toMatchObject({ stoppedAt: null, resumedAt: [200] });
    const long = c.get('t3')!.points;
    expect(long.length).toBeLessThanOrEqual(20);
    expect(long[0]).toEqual([1, 1000]);
    expect(long.at(-1)).toEqual([1000, 1]);
    expect(long.some(([, v]) => v === null)).toBe(true); // the diverged point is kept
    const few = analyzeSweep(SPEC, trials, { maxCurves: 3 });
    expect(few.curves.map((x) => x.trialId)).toEqual(['t3', 't9', 't10']) // the long curve ends at 1, then groupreduce at lr 0.1;
  });

  it('an empty sweep and a sweep without varied fields give empty views, no importance', () => {
    expect(analyzeSweep(SPEC, [])).toMatchObject({ rows: [], history: [], importance: null, curves: [], curvesTotal: 0, reference: null });
    const one = analyzeSweep({ name: 'x' }, sweep());
    expect(one.parameters).toEqual([]);
    expect(one.importance).toBeNull();
  });
});
