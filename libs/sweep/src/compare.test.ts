import { describe, expect, it } from 'vitest';
import { meanCI95, pairedDifference } from '@lmsweep/algorithms';
import { compareConfigs } from './compare.ts';
import type { AnalysisInput } from './analysis.ts';

const SPEC = { name: 'c', grid: { method: ['svd', 'groupreduce'] } };
/** Each seed's luck (large) and each method's effect (small): pairing by seed removes the luck. */
const LUCK = [0, 9, -7, 4];
const EFFECT: Record<string, number> = { dense: 0, svd: 20, groupreduce: 12 };

function t(method: string, seed: number, over: Partial<AnalysisInput> = {}): AnalysisInput {
  const v = 120 + EFFECT[method]! + LUCK[seed]! + 0.3 * seed * (method === 'svd' ? 1 : -1);
  return {
    id: `${method}-${seed}`,
    ordinal: seed,
    status: 'succeeded',
    method,
    configKey: method,
    seed,
    config: { method, model: { hidden: 200 }, compress: method === 'dense' ? undefined : { rate: 5, blocks: method === 'svd' ? 1 : 5 } },
    params: method === 'dense' ? 4_000_000 : 1_000_000,
    validPpl: v,
    testPpl: v - 3,
    finishedAt: new Date(0),
    steps: 100,
    rung: null,
    promotions: 0,
    segments: [],
    curve: Array.from({ length: 1000 }, (_, i) => ({ step: i + 1, value: v + 1000 / (i + 1) })),
    ...over,
  };
}
const trials = () => ['dense', 'svd', 'groupreduce'].flatMap((m) => [0, 1, 2, 3].map((s) => t(m, s)));

describe('compareConfigs', () => {
  it('shows only the fields that differ, each configuration with its interval, and each against the first paired by seed', () => {
    const c = compareConfigs(SPEC, trials(), ['svd', 'groupreduce']);
    expect(c.fields).toEqual(['method', 'compress.blocks']);
    expect(c.configs.map((x) => x.values)).toEqual([['svd', '1'], ['groupreduce', '5']]);
    expect(c.configs[0]!.label).toMatch(/^SVD/i);
    const svd = trials().filter((x) => x.method === 'svd').map((x) => x.validPpl!);
    expect(c.configs[0]!.validPpl).toEqual({ mean: meanCI95(svd).mean, lo: meanCI95(svd).lo, hi: meanCI95(svd).hi, n: 4 });
    const gr = trials().filter((x) => x.method === 'groupreduce').map((x) => x.validPpl!);
    const d = pairedDifference(gr, svd);
    expect(c.paired).toHaveLength(1);
    expect(c.paired[0]).toMatchObject({ config: 1, seeds: [0, 1, 2, 3], valid: { mean: d.mean, lo: d.lo, hi: d.hi, n: 4, p: d.p, pHolm: d.p } });
    // The seeds' luck (±9) would swamp unpaired intervals; paired, groupreduce is clearly better by about 8.
    expect(c.paired[0]!.valid.hi!).toBeLessThan(0);
    expect(c.paired[0]!.valid.mean!).toBeCloseTo(-8 - 0.6 * 1.5, 9);
    expect(c.configs[0]!.trials[0]!.curve.length).toBeLessThanOrEqual(300);
    expect(c.configs[0]!.trials[0]!.curve[0]![0]).toBe(1);
    expect(c.configs[0]!.trials[0]!.curve.at(-1)![0]).toBe(1000);
  });

  it('pairs over the seeds both succeeded on; Holm corrects over the comparisons', () => {
    const ts = trials();
    ts.find((x) => x.id === 'svd-1')!.status = 'failed';
    const c = compareConfigs(SPEC, ts, ['dense', 'svd', 'groupreduce']);
    expect(c.fields[0]).toBe('method');
    expect(c.paired.map((p) => p.seeds)).toEqual([[0, 2, 3], [0, 1, 2, 3]]);
    expect(c.configs[1]!.validPpl.n).toBe(3);
    const ps = c.paired.map((p) => p.valid.p!);
    const holm = c.paired.map((p) => p.valid.pHolm!);
    for (let i = 0; i < 2; i++) expect(holm[i]).toBeGreaterThanOrEqual(ps[i]!);
    expect(Math.min(...holm)).toBeCloseTo(Math.min(1, 2 * Math.min(...ps)), 12);
  });

  it('refuses fewer than 2 or more than 8 configurations, a repeated one and one the sweep does not have, naming configKeys', () => {
    expect(() => compareConfigs(SPEC, trials(), ['svd'])).toThrow(/configKeys: compare 2 to 8/);
    expect(() => compareConfigs(SPEC, trials(), Array.from({ length: 9 }, (_, i) => `k${i}`))).toThrow(/configKeys/);
    expect(() => compareConfigs(SPEC, trials(), ['svd', 'svd'])).toThrow(/configKeys: a configuration is named twice/);
    expect(() => compareConfigs(SPEC, trials(), ['svd', 'nope'])).toThrow(/configKeys: no trial of configuration nope/);
  });
});
