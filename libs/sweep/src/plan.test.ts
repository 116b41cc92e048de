// Planning one configuration against what a sweep already holds: the growing sweep's step (the grid
// expansion itself, a loop over its points, is pinned by expand-golden.test.ts).
import { describe, expect, it } from 'vitest';
import { expandSweep, gridPoints, parseSweepSpec, seedList } from './expand.ts';
import { PlanIndex, planConfiguration } from './plan.ts';

const base = { name: 'p', dataset: { name: 'ptb', vocabSize: 360 }, model: { embedding: 40, hidden: 40, layers: 1 }, seeds: 2 };
const compress = { rate: 4, blocks: 5, finetune: { maxSteps: 10, lr: 0.002, evalEvery: 5 } };
const row = (p: { ordinal: number; method: string; seed: number; parentOrdinal?: number }) => [p.ordinal, p.method, p.seed, p.parentOrdinal];

describe('planConfiguration', () => {
  it('one point at a time through the index gives the grid expansion, in order', () => {
    const spec = parseSweepSpec({ ...base, compress: { ...compress, control: true }, grid: { method: ['svd', 'dense', 'groupreduce', 'dense-finetune'], 'training.lr': [1, 0.5] } });
    const planned = new PlanIndex();
    const plans = gridPoints(spec).flatMap((point) => {
      const added = planConfiguration(spec, point, seedList(spec), planned);
      planned.add(added);
      return added;
    });
    expect(plans).toEqual(expandSweep(spec));
    expect(planned.nextOrdinal).toBe(plans.length);
  });

  it('appends to stored trials: ordinals continue after the highest, baselines and controls already there are parents, not repeated', () => {
    const spec = parseSweepSpec({ ...base, compress: { ...compress, control: true }, grid: { method: ['svd'] } });
    const stored = expandSweep(spec);
    expect(stored.map(row)).toEqual([
      [0, 'dense', 0, undefined],
      [1, 'dense-finetune', 0, 0],
      [2, 'svd', 0, 0],
      [3, 'dense', 1, undefined],
      [4, 'dense-finetune', 1, 3],
      [5, 'svd', 1, 3],
    ]);
    // What a store knows of its trials is enough (no configs).
    const planned = new PlanIndex(stored.map(({ ordinal, configKey, seed }) => ({ ordinal, configKey, seed })));
    const more = planConfiguration(spec, { method: 'groupreduce' }, [0, 1], planned);
    expect(more.map(row)).toEqual([
      [6, 'groupreduce', 0, 0],
      [7, 'groupreduce', 1, 3],
    ]);
    // A third seed for the stored configuration: its own baseline and control first.
    const seed2 = planConfiguration(spec, { method: 'svd' }, [0, 1, 2], planned);
    expect(seed2.map(row)).toEqual([
      [6, 'dense', 2, undefined],
      [7, 'dense-finetune', 2, 6],
      [8, 'svd', 2, 6],
    ]);
    expect(seed2.map((p) => p.configKey)).toEqual([stored[0]!.configKey, stored[1]!.configKey, stored[2]!.configKey]);
    // The index is the caller's: planning left it as it was.
    expect(planned.nextOrdinal).toBe(6);
    expect(planned.ordinalOf(stored[0]!.configKey, 2)).toBeUndefined();
  });

  it('a point the sweep already has adds nothing; a dense point that is a stored baseline neither', () => {
    const spec = parseSweepSpec({ ...base, grid: { method: ['svd'] }, compress });
    const planned = new PlanIndex(expandSweep(spec));
    expect(planConfiguration(spec, { method: 'svd' }, [0, 1], planned)).toEqual([]);
    expect(planConfiguration(spec, { method: 'dense' }, [1, 0], planned)).toEqual([]);
    // Another hidden size is another configuration, with its own baseline.
    expect(planConfiguration(spec, { method: 'svd', 'model.hidden': 80 }, [0], planned).map(row)).toEqual([
      [4, 'dense', 0, undefined],
      [5, 'svd', 0, 4],
    ]);
  });

  it('ordinals continue after the highest stored one, gaps included', () => {
    const spec = parseSweepSpec({ ...base, seeds: 1 });
    const planned = new PlanIndex([
      { ordinal: 0, configKey: 'a', seed: 0 },
      { ordinal: 7, configKey: 'b', seed: 0 },
    ]);
    expect(planConfiguration(spec, { 'model.hidden': 20 }, [0], planned).map((p) => p.ordinal)).toEqual([8]);
    expect(new PlanIndex().nextOrdinal).toBe(0);
  });
});
