import { describe, expect, it } from 'vitest';
import type { PrunerSettings } from '@lmsweep/protocol';
import { Rng } from '@lmsweep/search';
import { planPrune } from './prune-plan.ts';
import { checkRecording, fullBudgetValues, meanInterval, proportionInterval, type RecordedCurves, replaySummary, replaySweep } from './prune-replay.ts';

type Asha = Extract<PrunerSettings, { type: 'asha' }>;
const asha = (o: Partial<Asha> = {}): Asha => ({ type: 'asha', metric: 'validPpl', unit: 'steps', minResource: 10, maxResource: 100, reduction: 3, promotion: false, ...o });
const MEDIAN: PrunerSettings = { type: 'median', metric: 'validPpl', warmupTrials: 2, warmupSteps: 0 };

/** 12 configurations × 2 seeds, values a + b/√s (s = 10, 20, …, 100) plus seed noise; seconds vary. */
function synthetic(seed = 1): RecordedCurves {
  const rng = new Rng(seed);
  const trials: RecordedCurves['trials'] = [];
  for (let c = 0; c < 12; c++) {
    const a = 80 + 80 * rng.next();
    const b = 200 + 600 * rng.next();
    for (const s of [0, 1]) {
      const noise = 1 + 0.01 * (rng.next() - 0.5);
      trials.push({ configKey: `c${c}`, label: `c=${c}`, seed: s, seconds: 10 + c, valid: Array.from({ length: 10 }, (_, k) => (a + b / Math.sqrt((k + 1) * 10)) * noise) });
    }
  }
  return { about: 'synthetic', spec: '', evalEvery: 10, maxSteps: 100, tokensPerStep: 400, seconds: 0, trials };
}

describe('replaySweep', () => {
  const curves = synthetic();
  const full = curves.trials.length * 100 * 400;

  it('without a pruner every trial runs its budget and the best configuration is the full run\'s', () => {
    const run = replaySweep(curves, { settings: { type: 'none' }, seed: 3 });
    expect(run.tokens).toBe(full);
    expect(run.finished).toBe(24);
    expect(run.judged).toBe(0);
    expect(run.bestValue).toBe(Math.min(...fullBudgetValues(curves).values()));
    // 4 workers over 24 trials of 10 to 21 s: at least the total over 4, at most that plus the longest.
    const total = curves.trials.reduce((a, t) => a + t.seconds, 0);
    expect(run.seconds).toBeGreaterThanOrEqual(total / 4 - 1e-9);
    expect(run.seconds).toBeLessThanOrEqual(total / 4 + 21);
  });

  it('ASHA without promotion never spends more than no pruner, and median neither', () => {
    for (let seed = 0; seed < 10; seed++) {
      for (const settings of [asha(), asha({ minResource: 20, reduction: 2 }), MEDIAN]) {
        const run = replaySweep(curves, { settings, seed });
        expect(run.tokens).toBeLessThanOrEqual(full);
        expect(run.finished).toBeGreaterThanOrEqual(1);
        expect(run.pauses).toBe(0);
      }
    }
  });

  it('ASHA with promotion pauses and resumes, spends less, and ends with trials finished', () => {
    const run = replaySweep(curves, { settings: asha({ promotion: true }), seed: 0 });
    expect(run.pauses).toBeGreaterThan(0);
    expect(run.promotions).toBeGreaterThan(0);
    expect(run.tokens).toBeLessThan(0.5 * full);
    expect(run.finished).toBeGreaterThanOrEqual(2); // a configuration's two seeds
  });

  it('the final evaluation is never judged; every other validation point of a running trial is', () => {
    for (const settings of [asha(), asha({ promotion: true }), MEDIAN]) {
      const reports: { step: number }[] = [];
      const run = replaySweep(curves, { settings, seed: 5, plan: (trials, s, open, report) => (report && reports.push(report), planPrune(trials, s, open, report)) });
      expect(reports.length).toBe(run.judged);
      expect(reports.every((r) => r.step > 0 && r.step < 100)).toBe(true);
      expect(reports.length).toBe(run.tokens / 400 / 10 - run.finished); // each interval ends in one judged point, but a trial's last
    }
  });

  it('a configuration\'s seeds are never split between stopped and finished ones', () => {
    for (let seed = 0; seed < 10; seed++) {
      for (const settings of [asha(), asha({ promotion: true }), MEDIAN]) {
        const trials: { configKey: string; status: string }[] = [];
        replaySweep(curves, { settings, seed, plan: (ts, s, open, report) => (trials.splice(0, trials.length, ...ts.map((t) => ({ configKey: t.configKey, status: t.status }))), planPrune(ts, s, open, report)) });
        const by = new Map<string, Set<string>>();
        for (const t of trials) by.set(t.configKey, (by.get(t.configKey) ?? new Set()).add(t.status));
        for (const statuses of by.values()) if (statuses.has('succeeded')) expect(statuses.has('pruned')).toBe(false);
      }
    }
  });

  it('is deterministic for a seed, and the order changes with it', () => {
    const a = replaySweep(curves, { settings: asha({ promotion: true }), seed: 7 });
    expect(replaySweep(curves, { settings: asha({ promotion: true }), seed: 7 })).toEqual(a);
    const others = Array.from({ length: 6 }, (_, s) => replaySweep(curves, { settings: asha({ promotion: true }), seed: 100 + s }).tokens);
    expect(new Set([a.tokens, ...others]).size).toBeGreaterThan(1);
  });

  it('refuses a recording whose curves do not match its evaluations', () => {
    const bad = synthetic();
    bad.trials[3]!.valid.pop();
    expect(() => checkRecording(bad)).toThrow(/9 values, expected 10/);
    expect(() => replaySweep(bad, { settings: { type: 'none' }, seed: 0 })).toThrow();
  });
});

describe('replaySummary', () => {
  it('none spends 100% and is always within 1%; the summary of a pruner stays inside its bounds', () => {
    const curves = synthetic(2);
    const none = replaySummary(curves, { settings: { type: 'none' }, repeats: 5 });
    expect(none.tokens.mean).toBe(1);
    expect(none.wall.mean).toBe(1);
    expect(none.gap.max).toBe(0);
    expect(none.within1).toBe(5);
    const promo = replaySummary(curves, { settings: asha({ promotion: true }), repeats: 20 });
    expect(promo.tokens.max).toBeLessThan(1);
    expect(promo.tokens.ci[0]).toBeLessThanOrEqual(promo.tokens.mean);
    expect(promo.gap.min).toBeGreaterThanOrEqual(0);
    expect(promo.within1).toBeLessThanOrEqual(20);
  });

  it('intervals: a mean with its normal 95% interval, Wilson\'s for a proportion', () => {
    expect(meanInterval([1, 1, 1])).toEqual({ mean: 1, ci: [1, 1], min: 1, max: 1 });
    const m = meanInterval([1, 2, 3, 4]);
    expect(m.mean).toBe(2.5);
    expect(m.ci[1] - m.ci[0]).toBeCloseTo(2 * 1.96 * Math.sqrt(5 / 3) / 2, 10);
    const [lo, hi] = proportionInterval(19, 100);
    expect(lo).toBeCloseTo(0.1251, 3);
    expect(hi).toBeCloseTo(0.2777, 3);
    expect(proportionInterval(100, 100)[1]).toBe(1);
  });
});
