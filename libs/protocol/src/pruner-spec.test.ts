import { describe, expect, it } from 'vitest';
import { defaultMinSteps, PrunerOptions, prunerIssues, prunerSettings } from './pruner-spec.ts';
import { SpecError, SweepSpec, zodIssues } from './spec.ts';

function schemaIssues(pruner: unknown) {
  const r = SweepSpec.safeParse({ name: 's', pruner });
  return r.success ? [] : zodIssues(r.error);
}
const budget = { maxSteps: 3000, evalEvery: 100 };

describe('pruner spec', () => {
  it('fills the defaults of each pruner and keeps a parsed pruner as it is', () => {
    expect(PrunerOptions.parse({})).toEqual({ type: 'none' });
    expect(PrunerOptions.parse({ type: 'median' })).toEqual({ type: 'median', metric: 'validPpl', warmupTrials: 5, warmupSteps: 0 });
    const a = PrunerOptions.parse({ type: 'asha', minSteps: 300 });
    expect(a).toEqual({ type: 'asha', metric: 'validPpl', minSteps: 300, reduction: 3, promotion: false });
    expect(PrunerOptions.parse(a)).toEqual(a);
    expect(SweepSpec.parse({ name: 's' }).pruner).toBeUndefined();
  });

  it('names each bad field', () => {
    expect(schemaIssues({ type: 'hyperband' })).toEqual([{ path: 'pruner.type', message: 'a pruner\'s type is none, median, asha; got "hyperband"' }]);
    expect(schemaIssues('asha')[0]).toMatchObject({ path: 'pruner', message: expect.stringContaining('a pruner is a mapping') });
    expect(schemaIssues({ type: 'asha', reduction: 1 })[0]!.path).toBe('pruner.reduction');
    expect(schemaIssues({ type: 'asha', reduction: 2.5 })[0]!.path).toBe('pruner.reduction');
    expect(schemaIssues({ type: 'asha', metric: 'testPpl' })[0]!.path).toBe('pruner.metric');
    expect(schemaIssues({ type: 'asha', minSteps: 0 })[0]!.path).toBe('pruner.minSteps');
    expect(schemaIssues({ type: 'asha', promotion: 'yes' })[0]!.path).toBe('pruner.promotion');
    expect(schemaIssues({ type: 'asha', minSteps: 300, minTokens: 6000 })).toEqual([{ path: 'pruner.minTokens', message: 'minSteps and minTokens are exclusive: the first rung is counted in steps or in tokens' }]);
    expect(schemaIssues({ type: 'median', warmupTrials: -1 })[0]!.path).toBe('pruner.warmupTrials');
    // A field of another pruner is named as such; an unknown one as unknown.
    expect(schemaIssues({ type: 'median', reduction: 3 })).toEqual([{ path: 'pruner', message: '"reduction" is an option of asha, not of median' }]);
    expect(schemaIssues({ reduction: 3 })).toEqual([{ path: 'pruner', message: '"reduction" is an option of asha, not of none' }]);
    expect(schemaIssues({ type: 'asha', warmupTrials: 5, eta: 3 })).toEqual([{ path: 'pruner', message: '"warmupTrials" is an option of median, not of asha; unknown field "eta"' }]);
  });

  it('refuses a pruner without budget.evalEvery, naming it', () => {
    for (const type of ['median', 'asha'] as const) {
      expect(prunerIssues({ pruner: PrunerOptions.parse({ type }), budget: { maxSteps: 3000 } })).toEqual([
        { path: 'budget.evalEvery', message: `a pruner (pruner.type: ${type}) judges the values reported every budget.evalEvery steps: set budget.evalEvery` },
      ]);
    }
    expect(prunerIssues({ pruner: { type: 'none' }, budget: {} })).toEqual([]);
    expect(prunerIssues({ budget: {} })).toEqual([]);
  });

  it('a rung lands on an evaluation below the end', () => {
    const asha = (o: object, b: object = budget) => prunerIssues({ pruner: PrunerOptions.parse({ type: 'asha', ...o }), budget: b });
    expect(asha({ minSteps: 300 })).toEqual([]);
    expect(asha({ minSteps: 250 })).toEqual([{ path: 'pruner.minSteps', message: 'minSteps 250 is not a multiple of budget.evalEvery 100: a rung has to land on an evaluation' }]);
    expect(asha({ minSteps: 3000 })[0]).toMatchObject({ path: 'pruner.minSteps', message: expect.stringContaining('is not below budget.maxSteps 3000') });
    expect(asha({}, { evalEvery: 100 })[0]).toMatchObject({ path: 'budget.maxSteps' });
    expect(asha({}, { maxSteps: 100, evalEvery: 100 })).toEqual([{ path: 'pruner.minSteps', message: 'the first rung (by default budget.evalEvery, 100 steps) is not below budget.maxSteps 100: there is no rung to judge at' }]);
    expect(asha({ minTokens: 20_000 }, budget)[0]).toMatchObject({ path: 'budget.maxTokens' });
    expect(asha({ minTokens: 20_000 }, { ...budget, maxTokens: 10_000 })[0]).toMatchObject({ path: 'pruner.minTokens' });
    expect(asha({ minTokens: 2_000 }, { ...budget, maxTokens: 10_000 })).toEqual([]);
    expect(prunerIssues({ pruner: PrunerOptions.parse({ type: 'median', warmupSteps: 3000 }), budget })[0]).toMatchObject({ path: 'pruner.warmupSteps' });
  });

  it('a pruned sweep may not vary its evaluations or its end', () => {
    const pruner = PrunerOptions.parse({ type: 'asha' });
    expect(prunerIssues({ pruner, budget, grid: { 'budget.evalEvery': [50, 100], 'model.hidden': [8, 16] } })).toEqual([
      { path: 'grid.budget.evalEvery', message: 'a pruned sweep (pruner.type: asha) compares its trials at the same evaluations and rungs: set budget.evalEvery once, in budget' },
    ]);
    expect(prunerIssues({ pruner, budget, space: { 'budget.maxSteps': { int: [1000, 3000] } } })[0]!.path).toBe('space.budget.maxSteps');
  });

  it('resolves the defaults against the budget', () => {
    // The largest multiple of evalEvery at most maxSteps/η³, at least evalEvery: 3000/27 → 100; 30000/27 → 1100.
    expect(defaultMinSteps(100, 3000, 3)).toBe(100);
    expect(defaultMinSteps(100, 30_000, 3)).toBe(1100);
    expect(defaultMinSteps(500, 3000, 3)).toBe(500);
    expect(prunerSettings({ pruner: PrunerOptions.parse({ type: 'asha' }), budget })).toEqual({ type: 'asha', metric: 'validPpl', unit: 'steps', minResource: 100, maxResource: 3000, reduction: 3, promotion: false });
    expect(prunerSettings({ pruner: PrunerOptions.parse({ type: 'asha', minSteps: 300, promotion: true }), budget })).toMatchObject({ minResource: 300, promotion: true });
    expect(prunerSettings({ pruner: PrunerOptions.parse({ type: 'asha', minTokens: 2000, reduction: 4 }), budget: { ...budget, maxTokens: 100_000 } })).toMatchObject({ unit: 'tokens', minResource: 2000, maxResource: 100_000, reduction: 4 });
    expect(prunerSettings({ pruner: PrunerOptions.parse({ type: 'median', warmupSteps: 200 }), budget })).toEqual({ type: 'median', metric: 'validPpl', warmupTrials: 5, warmupSteps: 200 });
    expect(prunerSettings({ budget: {} })).toEqual({ type: 'none' });
    expect(() => prunerSettings({ pruner: PrunerOptions.parse({ type: 'asha' }), budget: {} })).toThrow(SpecError);
  });
});
