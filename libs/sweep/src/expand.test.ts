import { describe, expect, it } from 'vitest';
import { SpecError } from '@lmsweep/protocol';
import { baselineKey, expandSweep, parseSweepSpec } from './expand.ts';

const yaml = `
name: t
dataset: { name: ptb, vocabSize: 500 }
model: { hidden: 16, embedding: 16, layers: 1 }
budget: { maxSteps: 5 }
grid:
  model.hidden: [16, 32]
  training.lr: [0.5, 1]
seeds: 3
baseline: { model.hidden: 32, training.lr: 1 }
`;

function issuesOf(input: unknown) {
  try {
    parseSweepSpec(input);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).issues;
  }
  throw new Error('spec was accepted');
}

describe('sweep spec', () => {
  it('expands grid × seeds with stable config keys', () => {
    const spec = parseSweepSpec(yaml);
    const plans = expandSweep(spec);
    expect(plans).toHaveLength(12);
    expect(plans.map((p) => p.ordinal)).toEqual([...Array(12).keys()]);
    expect(new Set(plans.map((p) => p.configKey)).size).toBe(4);
    expect(plans.slice(0, 3).map((p) => p.seed)).toEqual([0, 1, 2]);
    expect(plans[0]!.config.model.hidden).toBe(16);
    expect(plans[11]!.config.model.hidden).toBe(32);
    expect(plans[11]!.config.training.lr).toBe(1);
    expect(plans[0]!.config.dataset).toEqual({ name: 'ptb', vocabSize: 500 });
    expect(baselineKey(spec)).toBe(plans[11]!.configKey);
    // Same spec, same keys: the key is a function of the config alone.
    expect(expandSweep(parseSweepSpec(yaml)).map((p) => p.configKey)).toEqual(plans.map((p) => p.configKey));
  });

  it('names the bad field', () => {
    expect(issuesOf('name: x\nmodel: { hiden: 3 }')[0]).toMatchObject({ path: 'model', message: expect.stringContaining('hiden') });
    expect(issuesOf('name: x\ngrid: { model.hiden: [1] }')[0]).toMatchObject({ path: 'grid.model.hiden', message: expect.stringContaining('unknown parameter') });
    expect(issuesOf('name: x\ngrid: { training.lr: [-1] }')[0]!.path).toBe('grid.training.lr');
    expect(issuesOf('name: x\ntraining: { batchSize: 0 }')[0]!.path).toBe('training.batchSize');
    expect(issuesOf('model: {}')[0]!.path).toBe('name');
    expect(issuesOf('name: x\nmethod: magic')[0]!.path).toBe('method');
    expect(issuesOf('name: x\ngrid: { model.hidden: [1] }\nbaseline: { model.hidden: 2 }')[0]!.path).toBe('baseline.model.hidden');
    expect(issuesOf('name: [unclosed')[0]!.message).toMatch(/YAML/);
    expect(issuesOf('name: x\ngrid: { model.hidden: [' + Array.from({ length: 200 }, (_, i) => i + 1).join(',') + '], training.lr: [' + Array.from({ length: 60 }, (_, i) => (i + 1) / 100).join(',') + '] }')[0]).toMatchObject({ path: 'grid', message: expect.stringContaining('12000 trials') });
  });
});
