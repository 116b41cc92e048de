// The LSTM LM with PHM and low-rank weight matrices: exact counts, gradients, short trials.
import * as tf from '@tensorflow/tfjs-core';
import { expectClose } from '@lmsweep/algorithms';
import { type ModelConfig, resolveModel, SpecError, TrialConfig } from '@lmsweep/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { type Corpus, datasetSearchDirs, loadCorpus, resolveDataset } from './corpus.ts';
import { LstmLm, lstmLmParamCount } from './lstm-lm.ts';
import { DivergedError, runTrial } from './train.ts';
import { finiteDifferences } from './testing.ts';

const shape = { embedding: 8, hidden: 4, layers: 2, dropout: 0, initScale: 0.5 };
const MODELS: [string, ModelConfig][] = [
  ['phm gates', { ...shape, phm: { n: 2, layers: ['gates'], path: 'auto' } }],
  ['phm gates+output, factored', { ...shape, phm: { n: 2, layers: ['gates', 'output'], path: 'factored' } }],
  ['phm output only, materialized', { ...shape, phm: { n: 2, layers: ['output'], path: 'materialized' } }],
  ['lowrank gates+output', { ...shape, lowrank: { rank: 2, layers: ['gates', 'output'] } }],
];

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('compressed LSTM LM', () => {
  it.each(MODELS)('%s: counts parameters exactly, per layer', (_, cfg) => {
    const V = 6;
    const model = new LstmLm(V, cfg, 0);
    const count = lstmLmParamCount(V, cfg);
    expect(count.total).toBe(model.paramCount());
    expect(Object.values(count.byLayer).reduce((a, b) => a + b, 0)).toBe(count.total);
    const sizeOf = (layer: string) => model.variables.filter((v) => v.name.split('/')[1] === layer).reduce((a, v) => a + v.size, 0);
    for (const [layer, n] of Object.entries(count.byLayer)) expect(n, layer).toBe(sizeOf(layer));
    expect(Object.keys(count.byLayer)).toEqual(['embedding', 'lstm.0.ih', 'lstm.0.hh', 'lstm.0.bias', 'lstm.1.ih', 'lstm.1.hh', 'lstm.1.bias', 'softmax']);
    model.dispose();
  });

  it('reports the analytic counts', () => {
    // PHM n=4 on h=200, e=200, V=10 000: gates (200·800/4 + 64) each; softmax 200·10 000/4 + 64 + 10 000
    const c = lstmLmParamCount(10_000, { embedding: 200, hidden: 200, layers: 2, phm: { n: 4, layers: ['gates', 'output'], path: 'auto' } });
    expect(c.byLayer).toEqual({
      embedding: 2_000_000,
      'lstm.0.ih': 40_064,
      'lstm.0.hh': 40_064,
      'lstm.0.bias': 800,
      'lstm.1.ih': 40_064,
      'lstm.1.hh': 40_064,
      'lstm.1.bias': 800,
      softmax: 510_064,
    });
    const r = lstmLmParamCount(10_000, { embedding: 200, hidden: 200, layers: 2, lowrank: { rank: 20, layers: ['gates'] } });
    expect(r.byLayer['lstm.0.ih']).toBe(20 * 1000);
    expect(r.byLayer['softmax']).toBe(2_010_000);
    expect(r.total).toBe(2_000_000 + 2 * (20_000 + 20_000 + 800) + 2_010_000);
  });

  it('refuses a bad n when built', () => {
    expect(() => new LstmLm(7, { ...shape, phm: { n: 2, layers: ['output'], path: 'auto' } }, 0)).toThrow(SpecError);
    expect(() => new LstmLm(7, { ...shape, phm: { n: 2, layers: ['output'], path: 'auto' } }, 0)).toThrow(/n=2 does not divide softmax vocabulary size 7/);
  });

  it.each(MODELS)('%s: every parameter gradient matches finite differences', (_, cfg) => {
    const before = tf.memory().numTensors;
    const model = new LstmLm(6, cfg, 3);
    const [B, T] = [2, 3];
    const x = new Int32Array([0, 1, 2, 3, 4, 5]);
    const y = new Int32Array([1, 2, 3, 4, 5, 0]);
    expect(x.length).toBe(T * B);
    const state = { h: [0, 1].map(() => tf.fill([B, 4], 0.3) as tf.Tensor2D), c: [0, 1].map(() => tf.fill([B, 4], -0.2) as tf.Tensor2D) };
    const loss = () => tf.tidy(() => model.forward(x, y, B, state).lossSum.dataSync()[0]!);
    const { value, grads } = tf.variableGrads(() => model.forward(x, y, B, state).lossSum, model.variables);
    for (const v of model.variables) {
      const g = grads[v.name]!.dataSync();
      const idx = [...new Set([0, Math.floor(v.size / 2), v.size - 1])];
      expectClose(finiteDifferences(loss, v, idx, 1e-2), idx.map((i) => g[i]!), { rtol: 1e-2, atol: 2e-3 });
    }
    tf.dispose([value, ...Object.values(grads), ...state.h, ...state.c]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('compressed trials on PTB', () => {
  let ptb: Corpus;
  beforeAll(async () => {
    ptb = await loadCorpus(resolveDataset('ptb', datasetSearchDirs()), { vocabSize: 300 });
  });
  const trial = (method: 'phm' | 'lowrank', model: Record<string, unknown>, training: Record<string, unknown> = {}) =>
    TrialConfig.parse({
      method,
      dataset: { name: 'ptb', vocabSize: 300 },
      model: { embedding: 16, hidden: 16, layers: 1, ...model },
      training: { batchSize: 8, unroll: 10, ...training },
      budget: { maxSteps: 6, evalTokens: 400 },
    });

  it('a PHM trial finishes with a finite perplexity and the analytic parameter count', async () => {
    const before = tf.memory().numTensors;
    const config = trial('phm', { phm: { n: 4, layers: ['gates', 'output'] } });
    const r = await runTrial({ config, seed: 0, corpus: ptb });
    // embedding 300·16; ih, hh 16·64/4 + 4³; bias 64; softmax 16·300/4 + 4³ + 300
    expect(r.params).toBe(4800 + 320 + 320 + 64 + 1564);
    expect(r.params).toBe(lstmLmParamCount(300, resolveModel(config)).total);
    expect(r.paramsByLayer).toEqual({ embedding: 4800, 'lstm.0.ih': 320, 'lstm.0.hh': 320, 'lstm.0.bias': 64, softmax: 1564 });
    expect(Number.isFinite(r.validPpl) && Number.isFinite(r.testPpl)).toBe(true);
    expect(r.validPpl).toBeLessThan(1000);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a low-rank trial finishes with a finite perplexity and the analytic parameter count', async () => {
    const before = tf.memory().numTensors;
    const config = trial('lowrank', { lowrank: { rank: 4, layers: ['gates', 'output'] } });
    const r = await runTrial({ config, seed: 0, corpus: ptb });
    // embedding 300·16; ih, hh 4·(16 + 64); bias 64; softmax 4·(16 + 300) + 300
    expect(r.params).toBe(4800 + 320 + 320 + 64 + 1564);
    expect(r.params).toBe(lstmLmParamCount(300, resolveModel(config)).total);
    expect(Number.isFinite(r.validPpl) && Number.isFinite(r.testPpl)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a PHM trial whose loss becomes NaN/Inf stops as diverged, with the step', async () => {
    const before = tf.memory().numTensors;
    const config = trial('phm', { phm: { n: 2 } });
    Object.assign(config.training, { lr: 1e30, clip: 1e30 });
    const run = runTrial({ config, seed: 0, corpus: ptb });
    await expect(run).rejects.toThrow(DivergedError);
    await expect(run).rejects.toMatchObject({ step: expect.any(Number) });
    const step = ((await run.catch((e: unknown) => e)) as DivergedError).step;
    expect(step).toBeGreaterThanOrEqual(1);
    expect(step).toBeLessThanOrEqual(6);
    expect(tf.memory().numTensors).toBe(before);
  });
});
