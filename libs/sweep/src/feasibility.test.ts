// The checks launch makes at every grid point, on one point (a sampler's suggestion): the same
// verdicts as parseSweepSpec's, without the grid.
import { describe, expect, it } from 'vitest';
import { SpecError } from '@lmsweep/protocol';
import { parseSweepSpec } from './expand.ts';
import { pointIssues } from './feasibility.ts';

const spec = parseSweepSpec({ name: 'f', dataset: { name: 'ptb', vocabSize: 300 }, model: { embedding: 64, hidden: 32, layers: 2 } });

function launchIssues(input: unknown) {
  try {
    parseSweepSpec(input);
  } catch (e) {
    if (e instanceof SpecError) return e.issues;
    throw e;
  }
  return [];
}

describe('pointIssues', () => {
  it('a feasible point has none', () => {
    expect(pointIssues(spec, {})).toEqual([]);
    expect(pointIssues(spec, { method: 'phm', 'model.phm.n': 4 })).toEqual([]);
    expect(pointIssues(spec, { method: 'svd', 'compress.target': 'embedding', 'compress.rate': 5.27 })).toEqual([]); // rank 10 of 300×64: 5.2747
  });

  it('PHM n that does not divide a layer, a rank past a side, a rate no ranks meet: as launch names them, without the grid point', () => {
    const phm = { method: 'phm', 'model.phm.n': 8, 'model.hidden': 36 };
    expect(pointIssues(spec, phm)).toEqual([
      { path: 'model.phm.n', message: 'n=8 does not divide lstm.0.hh hidden size 36' },
      { path: 'model.phm.n', message: 'n=8 does not divide lstm.1.ih input size 36' },
      { path: 'model.phm.n', message: 'n=8 does not divide lstm.1.hh hidden size 36' },
    ]);
    const grid = { ...spec, grid: Object.fromEntries(Object.entries(phm).map(([k, v]) => [k, [v]])) };
    expect(launchIssues(grid)).toEqual(pointIssues(spec, phm).map((i) => ({ ...i, message: `${i.message} (at grid point method="phm", model.phm.n=8, model.hidden=36)` })));
    expect(pointIssues(spec, { method: 'lowrank', 'model.lowrank.rank': 40 })[0]).toEqual({ path: 'model.lowrank.rank', message: "rank 40 exceeds lstm.0.hh's smaller side (hidden size 32): no compression" });
    expect(pointIssues(spec, { method: 'svd', 'compress.target': 'embedding', 'compress.rate': 30 })).toEqual([
      { path: 'compress.rate', message: expect.stringMatching(/^embedding \(300×64\): rate 30 is impossible for svd within 1%/) },
    ]);
  });

  it('a bad value or path is an issue naming it, never a throw', () => {
    expect(pointIssues(spec, { 'model.hidden': 12.5 })).toEqual([{ path: 'model.hidden', message: expect.stringContaining('value 12.5') }]);
    expect(pointIssues(spec, { 'model.hiden': 12, 'training.lr': -1 }).map((i) => i.path)).toEqual(['model.hiden', 'training.lr']);
    expect(pointIssues(spec, { 'model.__proto__.x': 1 })).toEqual([{ path: 'model.__proto__.x', message: expect.stringContaining('"__proto__" is not a parameter name') }]);
    expect(pointIssues(spec, { method: 'magic' })[0]!.path).toBe('method');
  });
  it('a Transformer: its grid fields, its sizes and layer groups checked at every point; a tied model is not compressed', () => {
    const t = parseSweepSpec({ name: 't', dataset: { name: 'ptb', vocabSize: 300 }, model: { arch: 'transformer', embedding: 32, hidden: 32, layers: 2 } });
    expect(pointIssues(t, { 'model.heads': 8, 'model.ffn': 96, 'model.positions': 'sinusoidal' })).toEqual([]);
    expect(pointIssues(t, { 'model.heads': 5 })).toEqual([{ path: 'model.heads', message: '5 heads do not divide the model width hidden 32' }]);
    expect(pointIssues(t, { 'model.hidden': 48 })).toEqual([{ path: 'model.embedding', message: "a Transformer's embedding width is its model width: set it to model.hidden (48), not 32" }]);
    expect(pointIssues(t, { method: 'phm' })).toEqual([{ path: 'model.phm.layers', message: "'gates': a Transformer has none; its layer groups are attention, ffn, output" }]);
    const groups = parseSweepSpec({ name: 't', dataset: { name: 'ptb', vocabSize: 300 }, model: { arch: 'transformer', embedding: 32, hidden: 32, layers: 2, phm: { layers: ['attention', 'ffn'] } } });
    expect(pointIssues(groups, { method: 'phm', 'model.phm.n': 4 })).toEqual([]);
    expect(pointIssues(groups, { method: 'phm', 'model.phm.n': 3 })[0]).toEqual({ path: 'model.phm.n', message: 'n=3 does not divide block.0.q model width 32' });
    expect(pointIssues(t, { method: 'svd', 'compress.rate': 4.8193, 'model.tied': true })).toEqual([{ path: 'model.tied', message: 'svd factorizes the embedding and the softmax apart; a tied model\'s are one matrix (not supported yet: untie it)' }]);
    expect(pointIssues(t, { method: 'svd', 'compress.rate': 4.8193 })).toEqual([]); // rank 6 of 300×32
    expect(pointIssues(t, { 'training.unroll': 1024, 'training.batchSize': 40 })).toEqual([
      { path: 'training.unroll', message: 'a Transformer keeps batch·heads·unroll² attention weights per block: 40·4·1024²·4 bytes × 2 blocks = 1.25 GiB, over the 1.00 GiB a step may hold; shorten training.unroll or training.batchSize' },
    ]);
    expect(pointIssues(t, { 'training.unroll': 1024, 'training.batchSize': 32 })).toEqual([]); // 1 GiB exactly
    expect(pointIssues(spec, { 'model.heads': 2 })).toEqual([{ path: 'model.heads', message: 'only a Transformer (model.arch: transformer) reads model.heads' }]);
    expect(pointIssues(spec, { 'model.arch': 'rnn' })[0]!.path).toBe('model.arch');
  });
});
