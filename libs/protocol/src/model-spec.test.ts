import { describe, expect, it } from 'vitest';
import { compressionIssues, ModelConfig, resolveModel, transformerShape, weightMatrices } from './model-spec.ts';

const lstm = ModelConfig.parse({ embedding: 16, hidden: 16, layers: 1 });
const transformer = ModelConfig.parse({ arch: 'transformer', embedding: 16, hidden: 16, layers: 2 });
const paths = (m: ModelConfig, vocab?: number) => compressionIssues(m, vocab).map((i) => `${i.path}: ${i.message}`);

describe('model architectures', () => {
  it('an LSTM config is what it was: no Transformer field appears', () => {
    expect(Object.keys(lstm).sort()).toEqual(['dropout', 'embedding', 'hidden', 'initScale', 'layers']);
    expect(paths(lstm, 100)).toEqual([]);
  });

  it("a Transformer's defaults: 4 heads, ffn 4·hidden, learned positions, untied", () => {
    expect(transformerShape(transformer)).toEqual({ d: 16, heads: 4, ffn: 64, layers: 2, positions: 'learned', tied: false });
    expect(paths(transformer, 100)).toEqual([]);
  });

  it("lists a Transformer's matrices by group: attention q k v o, ffn in and out, the softmax unless tied", () => {
    const ms = weightMatrices(transformer, 100);
    expect(ms.map((m) => m.name)).toEqual(['block.0.q', 'block.0.k', 'block.0.v', 'block.0.o', 'block.0.ffn.in', 'block.0.ffn.out', 'block.1.q', 'block.1.k', 'block.1.v', 'block.1.o', 'block.1.ffn.in', 'block.1.ffn.out', 'softmax']);
    expect(ms.find((m) => m.name === 'block.1.ffn.out')).toMatchObject({ group: 'ffn', d: 64, k: 16 });
    expect(weightMatrices({ ...transformer, tied: true }, 100).some((m) => m.name === 'softmax')).toBe(false);
  });

  it('names the field of every misfit', () => {
    expect(paths({ ...lstm, heads: 2, tied: true })).toEqual(['model.heads: only a Transformer (model.arch: transformer) reads model.heads', 'model.tied: only a Transformer (model.arch: transformer) reads model.tied']);
    expect(paths({ ...transformer, heads: 3 })).toEqual(['model.heads: 3 heads do not divide the model width hidden 16']);
    expect(paths({ ...transformer, embedding: 8 })).toEqual(["model.embedding: a Transformer's embedding width is its model width: set it to model.hidden (16), not 8"]);
    expect(paths({ ...lstm, lowrank: { rank: 4, layers: ['attention', 'output'] } })).toEqual(["model.lowrank.layers: 'attention': an LSTM has none; its layer groups are gates, output"]);
    expect(paths({ ...transformer, tied: true, phm: { n: 2, layers: ['ffn', 'output'], path: 'auto' } }, 100)).toEqual([
      "model.phm.layers: 'output' with model.tied: the softmax weight is the embedding table, which phm does not replace (untie it, or drop 'output')",
    ]);
    expect(paths({ ...transformer, phm: { n: 3, layers: ['attention'], path: 'auto' } })).toContain('model.phm.n: n=3 does not divide block.0.q model width 16');
    expect(paths({ ...transformer, ffn: 30, phm: { n: 4, layers: ['ffn'], path: 'auto' } })).toContain('model.phm.n: n=4 does not divide block.0.ffn.in ffn width 30');
  });
});

describe('resolveModel', () => {
  it("normalizes the architecture's defaults: written out or left out, one configuration", () => {
    expect(resolveModel({ method: 'dense', model: { ...lstm, arch: 'lstm' } })).toEqual(lstm);
    const full = resolveModel({ method: 'dense', model: { ...transformer, heads: 4, ffn: 64, positions: 'learned', tied: false } });
    expect(resolveModel({ method: 'dense', model: transformer })).toEqual(full);
    expect(full).toMatchObject({ arch: 'transformer', heads: 4, ffn: 64, positions: 'learned', tied: false });
    // an LSTM given a Transformer's field keeps it, so launch can name it
    expect(resolveModel({ method: 'dense', model: { ...lstm, heads: 2 } })).toMatchObject({ heads: 2 });
  });
});
