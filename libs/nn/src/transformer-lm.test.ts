// The Transformer LM: exact parameter counts, every gradient against finite differences (dense,
// PHM, low-rank, tied, sinusoidal), its weights round trip, and a trial that learns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expectClose } from '@lmsweep/algorithms';
import { type ModelConfig, SpecError, TrialConfig, TrialResult } from '@lmsweep/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { type Corpus, loadCorpus } from './corpus.ts';
import { languageModelParamCount } from './language-model.ts';
import { finiteDifferences, writeGrammarCorpus } from './testing.ts';
import { runTrial } from './train.ts';
import { TransformerLm, transformerLmParamCount } from './transformer-lm.ts';

const shape: ModelConfig = { arch: 'transformer', embedding: 8, hidden: 8, layers: 2, heads: 2, ffn: 12, dropout: 0, initScale: 0.5 };
const MODELS: [string, ModelConfig][] = [
  ['dense, learned positions', shape],
  ['dense, tied, sinusoidal', { ...shape, tied: true, positions: 'sinusoidal' }],
  ['phm attention+ffn+output', { ...shape, phm: { n: 2, layers: ['attention', 'ffn', 'output'], path: 'auto' } }],
  ['lowrank attention+ffn', { ...shape, lowrank: { rank: 2, layers: ['attention', 'ffn'] } }],
];

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('TransformerLm', () => {
  it('counts its parameters exactly, by layer', () => {
    // d 16, ffn 64, vocab 50, context 8, 2 blocks
    const cfg: ModelConfig = { arch: 'transformer', embedding: 16, hidden: 16, layers: 2, dropout: 0, initScale: 0.1 };
    const r = transformerLmParamCount(50, cfg, 8);
    expect(r.byLayer).toMatchObject({ embedding: 800, positions: 128, 'block.0.ln1': 32, 'block.0.q': 272, 'block.1.o': 272, 'block.0.ffn.in': 16 * 64 + 64, 'block.0.ffn.out': 64 * 16 + 16, 'block.1.ln2': 32, norm: 32, softmax: 850 });
    const block = 32 + 4 * 272 + 32 + 1088 + 1040;
    expect(r.total).toBe(800 + 128 + 2 * block + 32 + 850);
    expect(languageModelParamCount(50, cfg, 8)).toEqual(r);
    const tied = transformerLmParamCount(50, { ...cfg, tied: true, positions: 'sinusoidal' }, 8);
    expect(tied.byLayer['softmax']).toBe(50);
    expect(tied.byLayer['positions']).toBeUndefined();
    expect(tied.total).toBe(r.total - 128 - 800);
    const phm = transformerLmParamCount(50, { ...cfg, phm: { n: 4, layers: ['attention'], path: 'auto' } }, 8);
    expect(phm.byLayer['block.0.q']).toBe((16 * 16) / 4 + 64 + 16);
    for (const [, c] of MODELS) {
      const m = new TransformerLm(6, c, 1, { context: 3 });
      expect(m.paramCount()).toBe(transformerLmParamCount(6, c, 3).total);
      m.dispose();
    }
  });

  it('refuses what it cannot build, naming the field', () => {
    expect(() => new TransformerLm(6, { ...shape, heads: 3 }, 0, { context: 3 })).toThrow(SpecError);
    expect(() => new TransformerLm(6, { ...shape, heads: 3 }, 0, { context: 3 })).toThrow(/model.heads: 3 heads do not divide the model width hidden 8/);
    expect(() => new TransformerLm(6, { ...shape, embedding: 4 }, 0, { context: 3 })).toThrow(/model.embedding: .*set it to model.hidden \(8\)/);
    expect(() => new TransformerLm(6, { ...shape, phm: { n: 2, layers: ['gates'], path: 'auto' } }, 0, { context: 3 })).toThrow(/model.phm.layers: 'gates': a Transformer has none; its layer groups are attention, ffn, output/);
    expect(() => new TransformerLm(6, { ...shape, phm: { n: 3, layers: ['ffn'], path: 'auto' } }, 0, { context: 3 })).toThrow(/model.phm.n: n=3 does not divide block.0.ffn.in model width 8/);
    const m = new TransformerLm(6, shape, 0, { context: 3 });
    expect(() => m.forward(new Int32Array(8), new Int32Array(8), 2, m.zeroState(2))).toThrow(/window of 4 tokens exceeds the model's context 3/);
    m.dispose();
  });

  it.each(MODELS)('%s: every parameter gradient matches finite differences', (_, cfg) => {
    const before = tf.memory().numTensors;
    const model = new TransformerLm(6, cfg, 3, { context: 3 });
    const B = 2;
    const x = new Int32Array([0, 1, 2, 3, 4, 5]);
    const y = new Int32Array([1, 2, 3, 4, 5, 0]);
    const state = model.zeroState(B);
    const loss = () => tf.tidy(() => model.forward(x, y, B, state).lossSum.dataSync()[0]!);
    const { value, grads } = tf.variableGrads(() => model.forward(x, y, B, state).lossSum, model.variables);
    expect(Object.keys(grads)).toHaveLength(model.variables.length);
    for (const v of model.variables) {
      const g = grads[v.name]!.dataSync();
      const idx = [...new Set([0, Math.floor(v.size / 2), v.size - 1])];
      expectClose(finiteDifferences(loss, v, idx, 1e-2), idx.map((i) => g[i]!), { rtol: 1e-2, atol: 2e-3 });
    }
    tf.dispose([value, ...Object.values(grads)]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(MODELS)('%s: exportWeights → fromWeights gives the same loss; missing names are named', (_, cfg) => {
    const m = new TransformerLm(6, cfg, 4, { context: 3 });
    const x = new Int32Array([0, 1, 2, 3, 4, 5]);
    const y = new Int32Array([1, 2, 3, 4, 5, 0]);
    const loss = (lm: TransformerLm) => tf.tidy(() => lm.forward(x, y, 2, lm.zeroState(2)).lossSum.dataSync()[0]!);
    const w = m.exportWeights();
    const back = TransformerLm.fromWeights(6, cfg, w, { context: 3 });
    expect(back.context).toBe(3);
    expect(loss(back)).toBe(loss(m));
    const { ['norm/g']: _g, ...partial } = w;
    expect(() => TransformerLm.fromWeights(6, cfg, partial, { context: 3 })).toThrow(/missing "norm\/g"/);
    back.dispose();
    m.dispose();
  });
});

describe('a Transformer trial', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'lmsweep-transformer-'));
  let grammar: Corpus;
  beforeAll(async () => {
    writeGrammarCorpus(tmp);
    grammar = await loadCorpus(tmp);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('learns the toy grammar with Adam, reports its exact parameter count, leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const config = TrialConfig.parse({
      model: { arch: 'transformer', embedding: 16, hidden: 16, layers: 1, heads: 2 },
      training: { batchSize: 4, unroll: 8, optimizer: 'adam', lr: 0.01, epochs: 2 },
    });
    const losses: number[] = [];
    const result = await runTrial({ config, seed: 0, corpus: grammar, onMetrics: (ps) => void losses.push(...ps.filter((p) => p.name === 'train_loss').map((p) => p.value)) });
    expect(() => TrialResult.parse(result)).not.toThrow();
    expect(tf.memory().numTensors).toBe(before);
    const V = grammar.vocab.length;
    expect(result.params).toBe(transformerLmParamCount(V, config.model, 8).total);
    expect(result.paramsByLayer!['positions']).toBe(8 * 16);
    expect(losses[0]!).toBeGreaterThan(2.2); // ≈ ln 14 at the start
    // from ≈ 14 (uniform) toward e^0.67 ≈ 2; the first word of each window has no context, so less low than the LSTM's
    expect(result.validPpl).toBeLessThan(2.6); // 2.08 here
    expect(losses.at(-1)!).toBeLessThan(1);
  });
});
