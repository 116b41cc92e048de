// The growth decision alone: seeds until the interval is tight, from stored trials' states.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { meanCI95 } from '@lmsweep/algorithms';
import type { TrialPlan } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec } from './expand.ts';
import { configurationStates, planGrowth, sweepGrows, type TrialState } from './grow.ts';

const base = { name: 'g', dataset: { name: 'ptb', vocabSize: 300 }, model: { embedding: 8, hidden: 8, layers: 1 } };
const adaptive = (extra: Record<string, unknown> = {}) => parseSweepSpec({ ...base, grid: { 'model.hidden': [8, 16, 24, 32] }, seeds: { min: 2, max: 4, ciHalfWidth: 1.5 }, ...extra });

/** Stored trials from plans: results by configuration index (grid order), `params` from its hidden size. */
function stored(plans: TrialPlan[], results: Record<number, number[]>, status: TrialState['status'] = 'succeeded'): TrialState[] {
  const keys = [...new Set(plans.map((p) => p.configKey))];
  return plans.map((p) => {
    const c = keys.indexOf(p.configKey);
    const v = results[c]?.[p.seed];
    return { ordinal: p.ordinal, configKey: p.configKey, seed: p.seed, status: v === undefined ? status : 'succeeded', params: 1000 * (c + 1), validPpl: v ?? null, flagged: false };
  });
}

describe('planGrowth: seeds until the interval is tight', () => {
  it('a fixed number or list of seeds never grows', () => {
    for (const seeds of [3, [0, 5]]) {
      const spec = parseSweepSpec({ ...base, grid: { 'model.hidden': [8, 16] }, seeds });
      expect(sweepGrows(spec)).toBe(false);
      expect(planGrowth(spec, stored(expandSweep(spec), { 0: [100, 200, 300], 1: [1, 500, 9] }))).toEqual({ plans: [], seeded: [] });
    }
    expect(sweepGrows(adaptive())).toBe(true);
  });

  it('launches min seeds, then one more for each configuration near the front whose interval is wider than the target', () => {
    const spec = adaptive();
    const launched = expandSweep(spec);
    expect(launched.map((p) => p.seed)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    // Nothing finished: nothing to judge.
    expect(planGrowth(spec, stored(launched, {}, 'queued')).plans).toEqual([]);
    const results = {
      0: [100, 110], // smallest: on the front, ±63.5 wide
      1: [90, 90.5], // on the front, ±3.2: wide
      2: [88, 88.2], // on the front (better than 1, more parameters), ±1.27: tight already
      3: [200, 201], // beaten beyond both intervals by configuration 1 (fewer parameters): not near
    };
    const states = configurationStates(stored(launched, results));
    expect(states.map((c) => [c.values.length, c.nearFront])).toEqual([[2, true], [2, true], [2, true], [2, false]]);
    expect(states[2]!.halfWidth).toBeLessThan(1.5);
    // the half-widths are the 95% Student-t ones: t(0.975, 1) · s / √2
    expect(states[1]!.halfWidth).toBeCloseTo(meanCI95([90, 90.5]).halfWidth, 12);
    expect(states[1]!.halfWidth).toBeCloseTo((12.706204736 * Math.SQRT1_2 * 0.5) / Math.SQRT2, 6);
    const d = planGrowth(spec, stored(launched, results));
    expect(d.plans.map((p) => [p.ordinal, p.configKey, p.seed])).toEqual([
      [8, launched[0]!.configKey, 2],
      [9, launched[2]!.configKey, 2],
    ]);
    expect(d.seeded.map((s) => [s.seed, s.seeds, Number(s.halfWidth!.toFixed(2))])).toEqual([
      [2, 2, 63.53],
      [2, 2, 3.18],
    ]);
  });

  it('waits for a configuration\'s seeds to finish, stops at max, leaves flagged seeds out, and judges a lone seed as near', () => {
    const spec = adaptive();
    const launched = expandSweep(spec);
    const trials = stored(launched, { 0: [100, 130], 1: [90], 2: [95, 140], 3: [99, 140] });
    // configuration 1's second seed is still running; configuration 2 already has max (4) trials; 3's second seed is flagged
    trials[3]!.status = 'running';
    const extra = [2, 3].map((seed, i) => ({ ordinal: 8 + i, configKey: launched[4]!.configKey, seed, status: 'succeeded' as const, params: 3000, validPpl: 120, flagged: false }));
    trials[7]!.flagged = true;
    const d = planGrowth(spec, [...trials, ...extra]);
    // 0: wide, near → seed 2. 1: running. 2: at max. 3: one unflagged seed, no interval: near → seed 2.
    expect(d.plans.map((p) => [p.configKey, p.seed])).toEqual([
      [launched[0]!.configKey, 2],
      [launched[6]!.configKey, 2],
    ]);
    expect(d.plans.map((p) => p.ordinal)).toEqual([10, 11]);
    // a configuration whose every seed failed gets none
    const failed = stored(launched, { 1: [90, 90.1], 2: [95, 95.1], 3: [99, 99.2] }, 'failed');
    expect(planGrowth(spec, failed).plans).toEqual([]);
  });

  it('a compression configuration\'s new seed comes with its baseline for that seed (and the control)', () => {
    const spec = parseSweepSpec({ ...base, method: 'svd', compress: { rate: 3.9, control: true, finetune: { maxSteps: 2 } }, grid: { 'compress.rate': [3.9] }, seeds: { min: 2, max: 3, ciHalfWidth: 1 } });
    const launched = expandSweep(spec);
    expect(launched.map((p) => [p.method, p.seed, p.parentOrdinal])).toEqual([
      ['dense', 0, undefined],
      ['dense-finetune', 0, 0],
      ['svd', 0, 0],
      ['dense', 1, undefined],
      ['dense-finetune', 1, 3],
      ['svd', 1, 3],
    ]);
    const trials = launched.map((p) => ({ ordinal: p.ordinal, configKey: p.configKey, seed: p.seed, status: 'succeeded' as const, params: p.method === 'svd' ? 500 : 1000, validPpl: p.method === 'svd' ? [120, 130][p.seed]! : 100 + p.seed * 0.1, flagged: false }));
    const d = planGrowth(spec, trials);
    expect(d.plans.map((p) => [p.ordinal, p.method, p.seed, p.parentOrdinal])).toEqual([
      [6, 'dense', 2, undefined],
      [7, 'dense-finetune', 2, 6],
      [8, 'svd', 2, 6],
    ]);
    // with that seed planned (queued), nothing more until it finishes
    const more = [...trials, ...d.plans.map((p) => ({ ordinal: p.ordinal, configKey: p.configKey, seed: p.seed, status: 'queued' as const, params: null, validPpl: null, flagged: false }))];
    expect(planGrowth(spec, more).plans).toEqual([]);
  });

  it('property: never plans a seed a configuration has, never past max, never for one still running, ordinals after the stored ones', () => {
    const spec = adaptive();
    const launched = expandSweep(spec);
    const statuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
    fc.assert(
      fc.property(
        fc.array(fc.record({ extra: fc.nat(3), status: fc.constantFrom(...statuses), ppl: fc.double({ min: 50, max: 60, noNaN: true }), flagged: fc.boolean() }), { minLength: 8, maxLength: 8 }),
        (draws) => {
          // each launched trial gets a state, and each configuration up to 3 extra seeds (all succeeded)
          const trials: TrialState[] = launched.map((p, i) => ({ ordinal: p.ordinal, configKey: p.configKey, seed: p.seed, status: draws[i]!.status, params: 1000 + (i >> 1), validPpl: draws[i]!.ppl, flagged: draws[i]!.flagged }));
          let ordinal = trials.length;
          for (const [i, p] of launched.entries()) if (p.seed === 1) for (let k = 0; k < draws[i]!.extra; k++) trials.push({ ordinal: ordinal++, configKey: p.configKey, seed: 2 + k, status: 'succeeded', params: 1000 + (i >> 1), validPpl: 55 + k, flagged: false });
          const d = planGrowth(spec, trials);
          const has = new Set(trials.map((t) => `${t.configKey}/${t.seed}`));
          for (const p of d.plans) {
            expect(has.has(`${p.configKey}/${p.seed}`)).toBe(false);
            const mine = trials.filter((t) => t.configKey === p.configKey);
            expect(mine.length).toBeLessThan(4);
            expect(mine.some((t) => t.status === 'queued' || t.status === 'running')).toBe(false);
            expect(p.ordinal).toBeGreaterThanOrEqual(ordinal);
          }
          expect(new Set(d.plans.map((p) => p.ordinal)).size).toBe(d.plans.length);
          expect(planGrowth(spec, trials)).toEqual(d); // a pure function of its input
        },
      ),
      { numRuns: 200 },
    );
  });

  it('property: nearFront is "no other configuration with at most its parameters has its whole interval below this one\'s" (checked against the pairwise definition)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ params: fc.integer({ min: 1, max: 5 }), values: fc.array(fc.double({ min: 50, max: 60, noNaN: true }), { minLength: 1, maxLength: 3 }) }), { maxLength: 12 }), (configs) => {
        const trials: TrialState[] = configs.flatMap((c, i) => c.values.map((v, seed) => ({ ordinal: i * 10 + seed, configKey: `k${i}`, seed, status: 'succeeded' as const, params: c.params * 100, validPpl: v, flagged: false })));
        const states = configurationStates(trials);
        const up = (c: (typeof states)[number]) => (c.halfWidth === null ? Infinity : c.mean + c.halfWidth);
        const lo = (c: (typeof states)[number]) => (c.halfWidth === null ? -Infinity : c.mean - c.halfWidth);
        for (const c of states) expect(c.nearFront).toBe(!states.some((d) => d !== c && d.params! <= c.params! && up(d) < lo(c)));
      }),
      { numRuns: 300 },
    );
  });
});

