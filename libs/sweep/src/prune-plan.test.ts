import { describe, expect, it } from 'vitest';
import type { PrunerSettings } from '@lmsweep/protocol';
import { planPrune, pruneOpen, pruneScope, type PruneTrialView } from './prune-plan.ts';
import { parseSweepSpec } from './expand.ts';

const ASHA: PrunerSettings = { type: 'asha', metric: 'validPpl', unit: 'steps', minResource: 100, maxResource: 900, reduction: 3, promotion: true };
const STOP_ASHA: PrunerSettings = { ...ASHA, promotion: false };

let n = 0;
function trial(configKey: string, status: string, points: [number, number][], extra: Partial<PruneTrialView> = {}): PruneTrialView {
  return { id: `t${n++}`, configKey, seed: 0, status, parentId: null, hasChildren: false, pausing: false, tokensPerStep: 400, points: points.map(([step, value]) => ({ step, value })), ...extra };
}

describe('planPrune', () => {
  it('pauses a report not among the best third at its rung, and promotes a paused trial once enough worse ones arrive', () => {
    const a = trial('a', 'paused', [[100, 150]]);
    const b = trial('b', 'running', [[100, 200]]);
    const c = trial('c', 'running', [[100, 210]]);
    // b reports: with a and b at the rung, ⌊2/3⌋ = 0 go on: b pauses, nothing is promoted.
    const first = planPrune([a, b, { ...c, points: [] }], ASHA, true, { trialId: b.id, step: 100, value: 200 });
    expect(first.verdict).toMatchObject({ action: 'pause', step: 100, rung: 0 });
    expect(first.promote).toEqual([]);
    // c reports next (b is pausing): three at the rung, the best one (a) is promoted.
    const next = planPrune([a, { ...b, pausing: true }, c], ASHA, true, { trialId: c.id, step: 100, value: 210 });
    expect(next.verdict).toMatchObject({ action: 'pause', rung: 0 });
    expect(next.promote.map((p) => p.trialId)).toEqual([a.id]);
    expect(next.close).toEqual([]);
  });

  it('stops without promotion; a trial compression trials start from always continues', () => {
    const others = [trial('a', 'succeeded', [[100, 100]]), trial('b', 'succeeded', [[100, 110]]), trial('c', 'succeeded', [[100, 120]])];
    const bad = trial('d', 'running', [[100, 300]]);
    expect(planPrune([...others, bad], STOP_ASHA, false, { trialId: bad.id, step: 100, value: 300 }).verdict).toMatchObject({ action: 'stop', rung: 0 });
    const base = { ...bad, hasChildren: true };
    expect(planPrune([...others, base], STOP_ASHA, false, { trialId: base.id, step: 100, value: 300 }).verdict).toEqual({ action: 'continue', step: 100 });
  });

  it('judges fine-tuning trials (with a baseline) only against each other', () => {
    const scratch = [trial('a', 'succeeded', [[100, 100]]), trial('b', 'succeeded', [[100, 101]]), trial('c', 'succeeded', [[100, 102]])];
    const ft = trial('ft', 'running', [[100, 300]], { parentId: 'base' });
    // Alone in its group: the best there, it goes on though it is worse than every scratch trial.
    expect(planPrune([...scratch, ft], STOP_ASHA, false, { trialId: ft.id, step: 100, value: 300 }).verdict).toMatchObject({ action: 'continue' });
  });

  it('counts rungs in tokens when the pruner does: a step of 400 tokens reaches rung 100 tokens at step 1', () => {
    const tokens: PrunerSettings = { ...STOP_ASHA, unit: 'tokens', minResource: 800, maxResource: 40_000 };
    const others = [trial('a', 'succeeded', [[2, 100]]), trial('b', 'succeeded', [[2, 110]]), trial('c', 'succeeded', [[2, 120]])];
    const t = trial('d', 'running', [[1, 500]]);
    expect(planPrune([...others, t], tokens, false, { trialId: t.id, step: 1, value: 500 }).verdict).toEqual({ action: 'continue', step: 1 });
    const at2 = { ...t, points: [{ step: 1, value: 500 }, { step: 2, value: 400 }] };
    expect(planPrune([...others, at2], tokens, false, { trialId: t.id, step: 2, value: 400 }).verdict).toMatchObject({ action: 'stop', rung: 0 });
  });

  it('closes paused trials once the sweep is closed and nothing in their group runs or is promoted; never while open', () => {
    const winner = trial('w', 'succeeded', [[100, 100], [300, 90]]);
    const p1 = trial('p1', 'paused', [[100, 150]]);
    const p2 = trial('p2', 'paused', [[100, 160]]);
    const closed = planPrune([winner, p1, p2], ASHA, false);
    expect(closed.promote).toEqual([]);
    expect(closed.close.map((c) => c.trialId)).toEqual([p1.id, p2.id]);
    expect(closed.close[0]!.verdict).toMatchObject({ action: 'stop', step: 100, value: 150 });
    expect(planPrune([winner, p1, p2], ASHA, true).close).toEqual([]);
    expect(planPrune([winner, p1, p2, trial('r', 'running', [[100, 170]])], ASHA, false).close).toEqual([]);
  });

  it('with no pruner: continue, nothing moved', () => {
    const t = trial('a', 'running', [[100, 500]]);
    expect(planPrune([t], { type: 'none' }, false, { trialId: t.id, step: 100, value: 500 })).toEqual({ verdict: { action: 'continue', step: 100 }, promote: [], close: [] });
  });

  it('pruneOpen: a grid is closed; a search is open while it has configurations left to choose', () => {
    const base = { name: 's', budget: { maxSteps: 900, evalEvery: 100 } };
    expect(pruneOpen(parseSweepSpec({ ...base, grid: { 'model.hidden': [8, 16] } }), null)).toBe(false);
    const search = parseSweepSpec({ ...base, search: { trials: 3 }, space: { 'model.hidden': { int: [8, 32] } } });
    const point = (key: string) => ({ key, point: { 'model.hidden': 8 } });
    expect(pruneOpen(search, { points: [point('a')], finished: [], seen: 0, draws: 1, rejected: 0, reasons: [] })).toBe(true);
    expect(pruneOpen(search, { points: [point('a'), point('b'), point('c')], finished: [], seen: 0, draws: 3, rejected: 0, reasons: [] })).toBe(false);
  });
});

describe('pruneScope', () => {
  const MEDIAN: PrunerSettings = { type: 'median', metric: 'validPpl', warmupTrials: 2, warmupSteps: 200 };
  const plain = { verdict: null, prevStep: 100, tokensPerStep: 400, hasChildren: false, configPruned: false, succeeded: 0 };

  it('ASHA: continue between rungs; the rungs crossed since the previous point without promotion; the whole sweep with it', () => {
    expect(pruneScope(STOP_ASHA, { step: 200, value: 150 }, plain)).toBe('continue');
    expect(pruneScope(STOP_ASHA, { step: 300, value: 150 }, { ...plain, prevStep: 200 })).toEqual({ kind: 'rungs', rungs: [300], tokens: false });
    // A first point past two rungs (evaluations sparser than rungs) crosses both.
    expect(pruneScope(STOP_ASHA, { step: 400, value: 150 }, { ...plain, prevStep: null })).toEqual({ kind: 'rungs', rungs: [100, 300], tokens: false });
    expect(pruneScope(ASHA, { step: 300, value: 150 }, { ...plain, prevStep: 200 })).toEqual({ kind: 'sweep' });
    expect(pruneScope(ASHA, { step: 500, value: 150 }, { ...plain, prevStep: 400 })).toBe('continue');
  });

  it('rungs in tokens count step × tokens per step', () => {
    const tokens: PrunerSettings = { ...STOP_ASHA, unit: 'tokens', minResource: 40_000, maxResource: 360_000 };
    expect(pruneScope(tokens, { step: 100, value: 150 }, { ...plain, prevStep: 50 })).toEqual({ kind: 'rungs', rungs: [40_000], tokens: true });
    expect(pruneScope(tokens, { step: 200, value: 150 }, { ...plain, prevStep: 150 })).toBe('continue');
  });

  it('never continues unread what may stop: a recorded verdict, a pruned seed of its configuration, a diverged value', () => {
    for (const [t, value] of [[{ ...plain, verdict: { action: 'pause' } }, 150], [{ ...plain, configPruned: true }, 150], [plain, Number.NaN]] as const) {
      expect(pruneScope(STOP_ASHA, { step: 200, value }, t)).toEqual({ kind: 'sweep' });
      expect(pruneScope(MEDIAN, { step: 100, value }, t)).toEqual({ kind: 'sweep' });
    }
  });

  it('median: continue in its warmup (steps, or too few succeeded trials), else the succeeded trials at the step', () => {
    expect(pruneScope(MEDIAN, { step: 100, value: 150 }, { ...plain, succeeded: 10 })).toBe('continue');
    expect(pruneScope(MEDIAN, { step: 300, value: 150 }, { ...plain, succeeded: 1 })).toBe('continue');
    expect(pruneScope(MEDIAN, { step: 300, value: 150 }, { ...plain, succeeded: 2 })).toEqual({ kind: 'step', step: 300 });
    expect(pruneScope({ ...MEDIAN, warmupTrials: 0 }, { step: 300, value: 150 }, plain)).toBe('continue');
  });

  it('a baseline compression trials start from, and a sweep without a pruner, always continue', () => {
    expect(pruneScope(STOP_ASHA, { step: 300, value: Number.NaN }, { ...plain, hasChildren: true })).toBe('continue');
    expect(pruneScope({ type: 'none' }, { step: 300, value: 150 }, plain)).toBe('continue');
  });

  it('where it says continue, planPrune over the whole sweep answers continue with no rung, promotion or closure (random sweeps)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const states = ['queued', 'running', 'paused', 'succeeded', 'pruned', 'failed'];
    let checked = 0;
    for (let round = 0; round < 400; round++) {
      const settings = [ASHA, STOP_ASHA, MEDIAN][round % 3]!;
      const trials = Array.from({ length: 2 + Math.floor(rand() * 8) }, (_, i) => {
        const len = Math.floor(rand() * 9);
        const status = states[Math.floor(rand() * states.length)]!;
        return trial(`c${Math.floor(rand() * 4)}`, status, Array.from({ length: len }, (_, k) => [100 * (k + 1), 100 + 100 * rand()] as [number, number]), { seed: i });
      });
      const self = trial('c0', 'running', Array.from({ length: 1 + Math.floor(rand() * 7) }, (_, k) => [100 * (k + 1), 100 + 100 * rand()] as [number, number]), { seed: 99 });
      const all = [...trials, self];
      const report = { trialId: self.id, ...self.points[self.points.length - 1]! };
      const triage = {
        verdict: null,
        prevStep: self.points.length > 1 ? self.points[self.points.length - 2]!.step : null,
        tokensPerStep: 400,
        hasChildren: false,
        configPruned: all.some((t) => t.configKey === self.configKey && t.status === 'pruned'),
        succeeded: all.filter((t) => t.status === 'succeeded').length,
      };
      if (pruneScope(settings, report, triage) !== 'continue') continue;
      checked++;
      // Promotions and closures owed before the report are the pruning step's (it ran when that state came about): the report adds none.
      const before = planPrune(all.map((t) => (t === self ? { ...t, points: t.points.slice(0, -1) } : t)), settings, false);
      const plan = planPrune(all, settings, false, report);
      expect(plan.verdict).toEqual({ action: 'continue', step: report.step });
      expect(plan.promote).toEqual(before.promote);
      expect(plan.close).toEqual(before.close);
    }
    expect(checked).toBeGreaterThan(50);
  });
});
