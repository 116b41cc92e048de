import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prunerSettings, SpecError } from '@lmsweep/protocol';
import { rungsOf } from '@lmsweep/search';
import { expandSweep, parseSweepSpec } from './expand.ts';
import { prepareSweep, validateSpec } from './prepare.ts';

function issuesOf(run: () => unknown) {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).issues;
  }
  throw new Error('spec was accepted');
}

const grid = { name: 'g', dataset: { name: 'ptb', vocabSize: 300 }, model: { embedding: 8, hidden: 8, layers: 1 }, budget: { maxSteps: 3000, evalEvery: 100 }, grid: { 'model.hidden': [8, 16] }, seeds: 2 };
const sampled = { name: 's', dataset: { name: 'ptb', vocabSize: 300 }, budget: { maxSteps: 3000, evalEvery: 100 }, search: { trials: 5 }, space: { 'model.hidden': { int: [8, 32] } } };
const asha = { type: 'asha', metric: 'validPpl', minSteps: 300, reduction: 3, promotion: true };

describe('pruner at launch', () => {
  it('a valid pruner launches, for grid and sampled sweeps alike: the same trials as without it, the pruner kept in the spec', () => {
    for (const spec of [grid, sampled]) {
      for (const pruner of [asha, { type: 'median', warmupTrials: 5 }]) {
        const prepared = prepareSweep({ ...spec, pruner });
        expect(prepared.spec.pruner).toMatchObject({ type: pruner.type });
        expect(prepared.plans).toEqual(prepareSweep(spec).plans.map((p) => ({ ...p })));
        expect(validateSpec({ ...spec, pruner })).toMatchObject({ ok: true });
      }
    }
  });

  it('examples/prune.yaml launches: a TPE search with ASHA and promotion, its rungs where its comment says', () => {
    const text = readFileSync(path.join(import.meta.dirname, '../../../examples/prune.yaml'), 'utf8');
    const prepared = prepareSweep(parseSweepSpec(text));
    expect(prepared.spec.pruner).toEqual({ type: 'asha', metric: 'validPpl', minSteps: 30, reduction: 3, promotion: true });
    expect(prepared.plans).toHaveLength(4 * 2); // `parallel` configurations × seeds, the rest sampled as they finish
    expect(rungsOf(prunerSettings(prepared.spec))).toEqual([30, 90, 270, 810]);
  });

  it('pruner: { type: none } launches as if it were absent', () => {
    const plain = prepareSweep(grid);
    const none = prepareSweep({ ...grid, pruner: { type: 'none' } });
    expect(none.plans).toEqual(plain.plans);
    expect(none.plans).toEqual(expandSweep(parseSweepSpec(grid)));
    expect(none.spec.pruner).toEqual({ type: 'none' });
    expect(prepareSweep({ ...sampled, pruner: {} }).plans).toHaveLength(4);
  });

  it('a bad pruner is refused naming its field, in YAML as in objects', () => {
    expect(issuesOf(() => prepareSweep({ ...grid, budget: { maxSteps: 3000 }, pruner: asha }))).toEqual([
      { path: 'budget.evalEvery', message: 'a pruner (pruner.type: asha) judges the values reported every budget.evalEvery steps: set budget.evalEvery' },
    ]);
    expect(issuesOf(() => prepareSweep({ ...sampled, budget: {}, pruner: { type: 'median' } }))[0]!.path).toBe('budget.evalEvery');
    expect(issuesOf(() => prepareSweep({ ...grid, pruner: { ...asha, minSteps: 250 } }))[0]!.path).toBe('pruner.minSteps');
    expect(issuesOf(() => prepareSweep({ ...grid, grid: { 'budget.evalEvery': [50, 100] }, pruner: asha }))[0]!.path).toBe('grid.budget.evalEvery');
    const yaml = `name: y
budget: { maxSteps: 3000, evalEvery: 100 }
pruner:
  type: asha
  metric: validPpl
  minSteps: 300
  reduction: 1
`;
    expect(issuesOf(() => prepareSweep(yaml))[0]!.path).toBe('pruner.reduction');
    expect(prepareSweep(yaml.replace('reduction: 1', 'reduction: 3')).spec.pruner).toMatchObject({ type: 'asha', reduction: 3, minSteps: 300 });
  });
});
