import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError, type SweepSpec } from '@lmsweep/protocol';
import { baselineKey, expandSweep, parseSweepSpec } from './expand.ts';
import { prepareSweep, withControl } from './prepare.ts';

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

describe('compression methods', () => {
  const base = { name: 'c', dataset: { name: 'ptb', vocabSize: 300 }, model: { embedding: 64, hidden: 32, layers: 2 } };

  it('expands phm and lowrank grids, keeping only the method’s own options', () => {
    const spec = parseSweepSpec({ ...base, grid: { method: ['dense', 'phm', 'lowrank'], 'model.phm.n': [2, 4], 'model.lowrank.rank': [4, 8] } });
    const plans = expandSweep(spec);
    // dense once, phm × 2 n, lowrank × 2 ranks: duplicates of one configuration run once
    expect(plans.map((p) => p.method)).toEqual(['dense', 'phm', 'phm', 'lowrank', 'lowrank']);
    expect(plans[0]!.config.model).not.toHaveProperty('phm');
    expect(plans[0]!.config.model).not.toHaveProperty('lowrank');
    expect(plans[1]!.config.model.phm).toEqual({ n: 2, layers: ['gates'], path: 'auto' });
    expect(plans[2]!.config.model.phm!.n).toBe(4);
    expect(plans[1]!.config.model).not.toHaveProperty('lowrank');
    expect(plans[4]!.config.model.lowrank).toEqual({ rank: 8, layers: ['gates'] });
    // the dense point's key does not depend on unrelated options
    expect(plans[0]!.configKey).toBe(expandSweep(parseSweepSpec({ ...base }))[0]!.configKey);
    // method phm without a section gets the defaults
    expect(expandSweep(parseSweepSpec({ ...base, method: 'phm' }))[0]!.config.model.phm).toEqual({ n: 4, layers: ['gates'], path: 'auto' });
  });

  it('refuses an n that does not divide a chosen matrix, naming the layer and sizes', () => {
    expect(issuesOf({ ...base, method: 'phm', model: { ...base.model, phm: { n: 3 } } })).toEqual([
      { path: 'model.phm.n', message: 'n=3 does not divide lstm.0.ih input size 64 or output size 4·hidden = 128' },
      { path: 'model.phm.n', message: 'n=3 does not divide lstm.0.hh hidden size 32 or output size 4·hidden = 128' },
      { path: 'model.phm.n', message: 'n=3 does not divide lstm.1.ih input size 32 or output size 4·hidden = 128' },
      { path: 'model.phm.n', message: 'n=3 does not divide lstm.1.hh hidden size 32 or output size 4·hidden = 128' },
    ]);
    // the softmax only when chosen; 300 is not a multiple of 8, 4 divides everything
    const out = issuesOf({ ...base, method: 'phm', model: { ...base.model, phm: { n: 8, layers: ['gates', 'output'] } } });
    expect(out).toEqual([{ path: 'model.phm.n', message: 'n=8 does not divide softmax vocabulary size 300' }]);
    expect(() => parseSweepSpec({ ...base, method: 'phm', model: { ...base.model, phm: { n: 4, layers: ['gates', 'output'] } } })).not.toThrow();
    // every grid point is checked, and the message says which
    const grid = issuesOf({ ...base, method: 'phm', grid: { 'model.phm.n': [2, 8], 'model.hidden': [32, 36] } });
    expect(grid.map((i) => i.message)).toEqual([
      'n=8 does not divide lstm.0.hh hidden size 36 (at grid point model.phm.n=8, model.hidden=36)',
      'n=8 does not divide lstm.1.ih input size 36 (at grid point model.phm.n=8, model.hidden=36)',
      'n=8 does not divide lstm.1.hh hidden size 36 (at grid point model.phm.n=8, model.hidden=36)',
    ]);
    expect(grid.every((i) => i.path === 'model.phm.n')).toBe(true);
    // not checked for a dense point of the same grid
    expect(() => parseSweepSpec({ ...base, grid: { method: ['dense'], 'model.phm.n': [3] } })).not.toThrow();
    // the bundled PTB's vocabulary (10 000) when no vocabSize is set
    expect(issuesOf({ ...base, dataset: 'ptb', method: 'phm', model: { ...base.model, phm: { n: 32, layers: ['output'] } } })[0]!.message).toBe('n=32 does not divide softmax vocabulary size 10000');
  });

  it('refuses a rank above a matrix’s smaller side and unknown option fields', () => {
    expect(issuesOf({ ...base, method: 'lowrank', model: { ...base.model, lowrank: { rank: 40 } } })[0]).toEqual({
      path: 'model.lowrank.rank',
      message: "rank 40 exceeds lstm.0.hh's smaller side (hidden size 32): no compression",
    });
    expect(issuesOf({ ...base, model: { ...base.model, phm: { n: 2, layres: ['gates'] } } })[0]!.path).toBe('model.phm');
    expect(issuesOf({ ...base, grid: { 'model.phm.m': [2] } })[0]).toMatchObject({ path: 'grid.model.phm.m', message: expect.stringContaining('unknown parameter') });
    expect(issuesOf({ ...base, grid: { 'model.phm.n': [0] } })[0]!.path).toBe('grid.model.phm.n');
  });
});

describe('compression rates at launch', () => {
  // Full PTB (the bundled 10 000 words) at width 200: embedding and softmax are 10000×200.
  const ptb = { name: 'paper', dataset: 'ptb', model: { embedding: 200, hidden: 200, layers: 2 } };
  const methods = ['svd', 'weighted-svd', 'block-weighted-svd', 'dynamic-rank', 'groupreduce'];

  it('grids over the weighting power, once for the methods that do not read it (svd) or the blocks (svd, weighted-svd)', () => {
    const spec = parseSweepSpec({ ...ptb, compress: { rate: 5 }, grid: { method: methods, 'compress.weightPower': [0, 0.5, 1], 'compress.blocks': [5, 20] } });
    const count = (m: string) => expandSweep(spec).filter((p) => p.method === m).length;
    expect(methods.map(count)).toEqual([1, 3, 6, 6, 6]);
    expect(expandSweep(spec).find((p) => p.method === 'svd')!.config.compress!.weightPower).toBeUndefined();
    expect(issuesOf({ ...ptb, grid: { 'compress.weightPower': [2] } })[0]!.path).toBe('grid.compress.weightPower');
  });

  it("accepts the paper's setting, rate 5 in 5 blocks, for every method", () => {
    // Before, block-weighted-svd was refused: "the nearest common rank 36 gives rate 5.0505".
    const spec = parseSweepSpec({ ...ptb, compress: { target: 'both', rate: 5, blocks: 5 }, grid: { method: methods } });
    const plans = expandSweep(spec);
    expect(plans.filter((p) => p.method !== 'dense').map((p) => p.method)).toEqual(methods);
  });

  it('refuses a rate no ranks can meet, naming compress.rate and the nearest rates', () => {
    const out = issuesOf({ ...ptb, method: 'groupreduce', compress: { target: 'softmax', rate: 2000, blocks: 5 } });
    expect(out).toEqual([
      {
        path: 'compress.rate',
        message: 'softmax (10000×200): rate 2000 is impossible for groupreduce within 1%: rank 1 in each of 5 blocks already costs 11000 parameters (rate 181.82, the highest it can meet)',
      },
    ]);
    // One block: rank 2 gives 98.039 and rank 1 196.08, nothing within 1% of 100.
    const svd = issuesOf({ ...ptb, compress: { target: 'embedding', rate: 100 }, grid: { method: ['svd', 'block-weighted-svd'] } });
    expect(svd).toEqual([
      {
        path: 'compress.rate',
        message: 'embedding (10000×200): rate 100 is impossible for svd within 1%: the nearest ranks 1 and 2 give rates 196.08 and 98.039 (at grid point method="svd")',
      },
      {
        // Ten blocks of 1000 words: every rank costs 1200 parameters, 16 and 17 ranks in all.
        path: 'compress.rate',
        message:
          'embedding (10000×200): rate 100 is impossible for block-weighted-svd within 1%: the nearest rates it can meet are 104.17 and 98.039 (19200 and 20400 parameters) (at grid point method="block-weighted-svd")',
      },
    ]);
  });
});

describe('the dense + fine-tune control (compress.control)', () => {
  const base = { name: 'c', dataset: { name: 'ptb', vocabSize: 360 }, model: { embedding: 40, hidden: 40, layers: 1 }, seeds: 2 };
  const compress = { rate: 4, blocks: 5, finetune: { maxSteps: 10, lr: 0.002, evalEvery: 5 } };

  it('is added once per baseline and seed, only when asked, depending on the baseline like the compression trials', () => {
    const without = expandSweep(parseSweepSpec({ ...base, compress, grid: { method: ['dense', 'svd', 'groupreduce'] } }));
    expect(without.map((p) => p.method)).not.toContain('dense-finetune');
    const plans = expandSweep(parseSweepSpec({ ...base, compress: { ...compress, control: true }, grid: { method: ['dense', 'svd', 'groupreduce'] } }));
    expect(plans.map((p) => [p.method, p.seed, p.parentOrdinal])).toEqual([
      ['dense', 0, undefined],
      ['dense', 1, undefined],
      ['dense-finetune', 0, 0],
      ['svd', 0, 0],
      ['dense-finetune', 1, 1],
      ['svd', 1, 1],
      ['groupreduce', 0, 0],
      ['groupreduce', 1, 1],
    ]);
    // Everything but the method and the switch is the same as without it.
    expect(plans.filter((p) => p.method !== 'dense-finetune').map((p) => p.configKey)).toEqual(without.map((p) => p.configKey));
    // The baseline's config, fine-tuned like the compression trials: nothing else of `compress`.
    const [dense, control, svd] = [plans[0]!, plans[2]!, plans[3]!];
    expect(control.config).toEqual({ ...dense.config, method: 'dense-finetune', finetune: { epochs: 1, ...compress.finetune } });
    expect(svd.config.compress!.finetune).toEqual(control.config.finetune);
    expect(svd.config.compress).not.toHaveProperty('control');
    expect(new Set(plans.filter((p) => p.method === 'dense-finetune').map((p) => p.configKey)).size).toBe(1);
    // The baseline is added when the grid has none, before the control.
    expect(expandSweep(parseSweepSpec({ ...base, seeds: 1, compress: { ...compress, control: true }, method: 'svd' })).map((p) => [p.method, p.parentOrdinal])).toEqual([
      ['dense', undefined],
      ['dense-finetune', 0],
      ['svd', 0],
    ]);
  });

  it('a launch adds it by default (prepareSweep writes control: true into the spec it stores), not when told false, not without a compression method; a stored spec without it expands as before', () => {
    const methods = (spec: SweepSpec) => expandSweep(spec).map((p) => p.method);
    const launched = prepareSweep({ ...base, seeds: 1, compress, grid: { method: ['dense', 'svd'] } });
    expect(launched.spec.compress?.control).toBe(true);
    expect(launched.plans.map((p) => p.method)).toEqual(['dense', 'dense-finetune', 'svd']);
    expect(methods(launched.spec)).toEqual(['dense', 'dense-finetune', 'svd']);
    const off = prepareSweep({ ...base, seeds: 1, compress: { ...compress, control: false }, grid: { method: ['dense', 'svd'] } });
    expect(off.plans.map((p) => p.method)).toEqual(['dense', 'svd']);
    expect(prepareSweep({ ...base, seeds: 1, grid: { 'model.hidden': [20, 40] } }).spec.compress).toBeUndefined();
    // A sampled sweep whose space offers a compression method gets it too.
    expect(withControl(parseSweepSpec({ ...base, compress, search: { sampler: 'random', trials: 4 }, space: { method: ['dense', 'svd'] } })).compress?.control).toBe(true);
    // Stored before the default: no control then, none now.
    expect(methods(parseSweepSpec({ ...base, seeds: 1, compress, grid: { method: ['dense', 'svd'] } }))).toEqual(['dense', 'svd']);
  });

  it('follows the fine-tuning settings: one control per setting, shared by the methods with that setting', () => {
    const plans = expandSweep(parseSweepSpec({ ...base, seeds: 1, compress: { ...compress, control: true }, grid: { method: ['svd', 'groupreduce'], 'compress.finetune.lr': [0.001, 0.01] } }));
    expect(plans.map((p) => [p.method, p.config.finetune?.lr ?? p.config.compress?.finetune.lr, p.parentOrdinal])).toEqual([
      ['dense', undefined, undefined],
      ['dense-finetune', 0.001, 0],
      ['svd', 0.001, 0],
      ['dense-finetune', 0.01, 0],
      ['svd', 0.01, 0],
      ['groupreduce', 0.001, 0],
      ['groupreduce', 0.01, 0],
    ]);
  });

  it('runs in the demo (examples/demo.yaml): one per seed, fine-tuned like its compression trials', () => {
    const plans = expandSweep(parseSweepSpec(readFileSync(path.resolve(import.meta.dirname, '../../../examples/demo.yaml'), 'utf8')));
    const controls = plans.filter((p) => p.method === 'dense-finetune');
    expect(controls.map((p) => p.seed)).toEqual([0, 1, 2]);
    for (const c of controls) expect(plans[c.parentOrdinal!]).toMatchObject({ method: 'dense', seed: c.seed });
    for (const p of plans.filter((x) => x.method === 'svd' || x.method === 'groupreduce')) expect(p.config.compress!.finetune).toEqual(controls[0]!.config.finetune);
  });

  it('is the same trial when the grid names dense-finetune itself; refused without a compression method', () => {
    const named = expandSweep(parseSweepSpec({ ...base, seeds: 1, compress: { ...compress, control: true }, grid: { method: ['dense-finetune', 'svd'] } }));
    expect(named.map((p) => [p.method, p.parentOrdinal])).toEqual([
      ['dense', undefined],
      ['dense-finetune', 0],
      ['svd', 0],
    ]);
    // A grid may run the control alone, without compress.control.
    expect(expandSweep(parseSweepSpec({ ...base, seeds: 1, compress, method: 'dense-finetune' })).map((p) => p.configKey)).toEqual(named.slice(0, 2).map((p) => p.configKey));
    expect(issuesOf({ ...base, compress: { control: true } })).toEqual([{ path: 'compress.control', message: expect.stringContaining('no compression method') }]);
    expect(issuesOf({ ...base, grid: { method: ['svd'], 'compress.control': [true] } })[0]).toMatchObject({ path: 'grid.compress.control', message: expect.stringContaining('unknown parameter') });
    expect(issuesOf({ ...base, grid: { method: ['svd'], 'compress.finetune.evalEvery': [0] } })[0]!.path).toBe('grid.compress.finetune.evalEvery');
  });
});

describe('prototype segments in dotted paths', () => {
  const clean = () => {
    for (const proto of [Object.prototype, Array.prototype, Function.prototype]) {
      expect(Object.getOwnPropertyNames(proto).filter((k) => ['includes', 'polluted', 'p'].includes(k) && typeof (proto as unknown as Record<string, unknown>)[k] !== 'function')).toEqual([]);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['includes']).toBeUndefined();
  };

  it.each([
    // the issue's request: through an array's prototype to Object.prototype.includes
    ['model.phm.layers.__proto__.includes', 'grid', '__proto__'],
    ['__proto__.polluted', 'grid', '__proto__'],
    ['model.__proto__.polluted', 'grid', '__proto__'],
    ['model.constructor.prototype.polluted', 'grid', 'constructor'],
    ['training.prototype', 'grid', 'prototype'],
    ['constructor', 'grid', 'constructor'],
  ])('refuses grid key %s naming the field, and leaves Object.prototype clean', (key, section, segment) => {
    const issues = issuesOf(`name: x\n${section}: {"${key}": ["p"]}\n`);
    expect(issues).toEqual([{ path: `${section}.${key}`, message: expect.stringContaining(`"${segment}" is not a parameter name`) }]);
    clean();
    // and everything still works afterwards
    expect(expandSweep(parseSweepSpec(yaml))).toHaveLength(12);
  });

  it('refuses prototype segments in baseline keys, and never treats inherited members as grid keys', () => {
    expect(issuesOf('name: x\ngrid: { model.hidden: [8] }\nbaseline: { "model.__proto__.polluted": 1 }')).toEqual([
      { path: 'baseline.model.__proto__.polluted', message: expect.stringContaining('"__proto__" is not a parameter name') },
    ]);
    // `constructor` and `toString` are inherited by every object: not grid parameters
    expect(issuesOf('name: x\ngrid: { model.hidden: [8] }\nbaseline: { toString: 1 }')).toEqual([{ path: 'baseline.toString', message: expect.stringContaining('not a grid parameter') }]);
    expect(issuesOf('name: x\nbaseline: { constructor: 1 }')[0]).toMatchObject({ path: 'baseline.constructor', message: expect.stringContaining('"constructor" is not a parameter name') });
    // members of arrays and objects are not parameters either
    expect(issuesOf('name: x\ngrid: { model.phm.layers.includes: [1] }')[0]).toMatchObject({ path: 'grid.model.phm.layers.includes', message: expect.stringContaining('unknown parameter') });
    expect(issuesOf('name: x\ngrid: { model.hasOwnProperty: [1] }')[0]).toMatchObject({ path: 'grid.model.hasOwnProperty', message: expect.stringContaining('unknown parameter') });
    clean();
  });

  it('a dataset named like an inherited member is just a name', () => {
    const spec = parseSweepSpec({ name: 'x', dataset: 'constructor', method: 'phm', model: { embedding: 8, hidden: 8, layers: 1, phm: { n: 2, layers: ['gates', 'output'] } } });
    expect(expandSweep(spec)[0]!.config.dataset.name).toBe('constructor');
  });

  it('refuses an oversized grid before checking its values', () => {
    const keys = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`model.unknown${i}`, [1]]));
    expect(issuesOf({ name: 'x', grid: keys })).toEqual([{ path: 'grid', message: 'a grid has at most 32 parameters; this one has 33' }]);
    const huge = { name: 'x', grid: { 'model.hidden': Array.from({ length: 1000 }, (_, i) => i + 1), 'model.unknown': Array.from({ length: 1000 }, (_, i) => i) } };
    expect(issuesOf(huge)).toEqual([{ path: 'grid', message: expect.stringContaining('1000000 trials; at most 10000') }]);
    clean();
  });
});

describe('a bare prototype key', () => {
  it('is refused, not dropped', () => {
    expect(issuesOf('name: x\ngrid: { __proto__: [1], model.hidden: [8] }')).toEqual([{ path: 'grid.__proto__', message: expect.stringContaining('"__proto__" is not a parameter name') }]);
    expect(issuesOf(JSON.parse('{"name":"x","baseline":{"__proto__":1}}'))).toEqual([{ path: 'baseline.__proto__', message: expect.stringContaining('"__proto__" is not a parameter name') }]);
  });
});
