// The LSTM LM with a factorized (GroupReduce-style) embedding and softmax, and weight export:
// equivalence with the dense model, exact counts, gradients, save → load.
import * as tf from '@tensorflow/tfjs-core';
import { compress, expectClose, type Factorized, reconstruct } from '@lmsweep/algorithms';
import type { ModelConfig } from '@lmsweep/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { decodeCheckpoint, encodeCheckpoint, type TensorData } from './checkpoint.ts';
import { LstmLm, lstmLmParamCount } from './lstm-lm.ts';
import { finiteDifferences } from './testing.ts';

const V = 24;
const cfg: ModelConfig = { embedding: 6, hidden: 5, layers: 2, dropout: 0, initScale: 0.5 };
const [B, T] = [2, 12];
// every word once as input (so every embedding block is used), targets shifted
const x = Int32Array.from({ length: T * B }, (_, i) => (i * 7) % V);
const y = Int32Array.from({ length: T * B }, (_, i) => (i * 7 + 1) % V);
const zipf = Float64Array.from({ length: V }, (_, i) => 1 / (i + 1));

beforeAll(async () => {
  await selectBackend('wasm');
});

/** Σ NLL of one window from a fixed non-zero state. */
function loss(model: LstmLm): number {
  return tf.tidy(() => {
    const h = model.config.hidden;
    const state = { h: [0, 1].map(() => tf.fill([B, h], 0.3) as tf.Tensor2D), c: [0, 1].map(() => tf.fill([B, h], -0.2) as tf.Tensor2D) };
    return model.forward(x, y, B, state).lossSum.dataSync()[0]!;
  });
}

const transpose = (a: ArrayLike<number>, m: number, n: number) => Float32Array.from({ length: m * n }, (_, i) => a[(i % m) * n + Math.floor(i / m)]!);

/** The dense model's embedding E:[V, e] and softmax A = Wᵀ:[V, h], compressed. */
function factorize(weights: Record<string, TensorData>): { embedding: Factorized; softmax: Factorized } {
  const E = weights['embedding/E']!.data as Float32Array;
  const A = transpose(weights['softmax/W']!.data, cfg.hidden, V);
  return {
    embedding: compress('dynamic-rank', { data: E, rows: V, cols: cfg.embedding }, zipf, { rate: 1.3, blocks: 3, tolerance: 0.15 }),
    softmax: compress('groupreduce', { data: A, rows: V, cols: cfg.hidden }, zipf, { rate: 1.5, blocks: 3, iters: 3, tolerance: 0.15 }),
  };
}

describe('LSTM LM weights', () => {
  it.each<[string, ModelConfig]>([
    ['dense', cfg],
    ['phm', { ...cfg, embedding: 4, hidden: 4, phm: { n: 2, layers: ['gates', 'output'], path: 'auto' } }],
    ['lowrank', { ...cfg, lowrank: { rank: 2, layers: ['gates', 'output'] } }],
  ])('%s: exportWeights → a new model from the weights gives the identical loss', (kind, c) => {
    const before = tf.memory().numTensors;
    const model = new LstmLm(V, c, 1);
    const weights = model.exportWeights();
    if (kind === 'dense') expect(Object.keys(weights)).toEqual(['embedding/E', 'lstm.0/Wx', 'lstm.0/Wh', 'lstm.0/b', 'lstm.1/Wx', 'lstm.1/Wh', 'lstm.1/b', 'softmax/W', 'softmax/b']);
    expect(Object.values(weights).reduce((a, t) => a + t.data.length, 0)).toBe(model.paramCount());
    const other = new LstmLm(V, c, 2, { weights });
    const rebuilt = LstmLm.fromWeights(V, c, weights);
    const reference = loss(model);
    const fresh = new LstmLm(V, c, 2);
    expect(loss(fresh)).not.toBe(reference);
    expect(loss(other)).toBe(reference);
    expect(loss(rebuilt)).toBe(reference);
    for (const m of [model, other, rebuilt, fresh]) m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses weights that do not fit, naming the tensor', () => {
    const before = tf.memory().numTensors;
    const model = new LstmLm(V, cfg, 1);
    const weights = model.exportWeights();
    model.dispose();
    expect(() => new LstmLm(V, cfg, 1, { weights: { ...weights, 'lstm.1/Wh': { shape: [5, 19], data: new Float32Array(95) } } })).toThrow(/weights\["lstm.1\/Wh"\] has shape \[5,19\] \(95 values\), the model's variable is \[5,20\]/);
    expect(() => new LstmLm(V, cfg, 1, { weights: { ...weights, 'softmax/b': { shape: [V], data: new Int32Array(V) } } })).toThrow(/weights\["softmax\/b"\] holds Int32Array, the variable needs a Float32Array/);
    const f = factorize(weights);
    expect(() => new LstmLm(V, cfg, 1, { weights: { ...weights, 'softmax/b': { shape: [V - 1], data: new Float32Array(V - 1) } }, softmax: f.softmax })).toThrow(/weights\["softmax\/b"\] has shape \[23\]/);
    expect(() => new LstmLm(V, cfg, 1, { embedding: { ...f.embedding, params: 1 } })).toThrow(/embedding factors: params is 1, the blocks hold \d+/);
    const { ['lstm.0/b']: _, ...missing } = weights;
    expect(() => LstmLm.fromWeights(V, cfg, { ...missing, 'lstm.9/b': weights['lstm.0/b']! })).toThrow(/missing "lstm.0\/b"; not in the model: "lstm.9\/b"/);
    // the failed constructions leave no variables behind
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('LSTM LM with a factorized embedding and softmax', () => {
  it('equals the dense model holding the reconstructed matrices', () => {
    const before = tf.memory().numTensors;
    const dense = new LstmLm(V, cfg, 1);
    const weights = dense.exportWeights();
    dense.dispose();
    const f = factorize(weights);
    expect(f.embedding.blocks.length).toBeGreaterThan(1);
    expect(f.softmax.blocks.length).toBeGreaterThan(1);
    const reconstructed = new LstmLm(V, cfg, 1, {
      weights: { ...weights, 'embedding/E': { shape: [V, cfg.embedding], data: reconstruct(f.embedding) }, 'softmax/W': { shape: [cfg.hidden, V], data: transpose(reconstruct(f.softmax), V, cfg.hidden) } },
    });
    const factorized = new LstmLm(V, cfg, 1, { weights, ...f });
    // float32 sums over ≤ 6 terms per matrix entry, then a 2-layer LSTM over 12 steps and
    // 24 log-sum-exps (loss ≈ 77): rtol 1e-5; logits rtol 1e-5, atol 1e-6 (observed: losses
    // equal, logits within 3e-7).
    expectClose(loss(factorized), loss(reconstructed), { rtol: 1e-5 });
    const h = tf.tensor2d(Float32Array.from({ length: 3 * cfg.hidden }, (_, i) => Math.sin(i)), [3, cfg.hidden]);
    tf.tidy(() => expectClose(factorized.softmax.logits(h).dataSync(), reconstructed.softmax.logits(h).dataSync(), { rtol: 1e-5, atol: 1e-6 }));
    h.dispose();
    // the random stream is drawn as for the dense model: the LSTM starts the same
    const plain = new LstmLm(V, cfg, 5);
    const fromSeed = new LstmLm(V, cfg, 5, f);
    const lstm = (m: LstmLm) => Object.entries(m.exportWeights()).filter(([k]) => k.startsWith('lstm.'));
    expect(lstm(fromSeed)).toEqual(lstm(plain));
    for (const m of [reconstructed, factorized, plain, fromSeed]) m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('counts parameters exactly, per layer', () => {
    const before = tf.memory().numTensors;
    const dense = new LstmLm(V, cfg, 1);
    const f = factorize(dense.exportWeights());
    dense.dispose();
    for (const c of [cfg, { ...cfg, lowrank: { rank: 2, layers: ['gates' as const] } }]) {
      for (const opts of [f, { embedding: f.embedding }, { softmax: f.softmax }]) {
        const model = new LstmLm(V, c, 0, opts);
        const count = lstmLmParamCount(V, c, model.factorizedParams());
        expect(count.total).toBe(model.paramCount());
        expect(count.byLayer['embedding']).toBe(opts.embedding ? opts.embedding.params : V * c.embedding);
        expect(count.byLayer['softmax']).toBe((opts.softmax ? opts.softmax.params : c.hidden * V) + V);
        const sizeOf = (layer: string) => model.variables.filter((v) => v.name.split('/')[1] === layer).reduce((a, v) => a + v.size, 0);
        for (const [layer, n] of Object.entries(count.byLayer)) expect(n, layer).toBe(sizeOf(layer));
        expect(Object.values(count.byLayer).reduce((a, b) => a + b, 0)).toBe(count.total);
        model.dispose();
      }
    }
    // the keys stay those of the dense model
    expect(Object.keys(lstmLmParamCount(V, cfg, { embedding: 100, softmax: 50 }).byLayer)).toEqual(Object.keys(lstmLmParamCount(V, cfg).byLayer));
    expect(lstmLmParamCount(V, cfg, { embedding: 100, softmax: 50 }).total).toBe(lstmLmParamCount(V, cfg).total - V * 6 + 100 - 5 * V + 50);
    expect(() => new LstmLm(V, { ...cfg, lowrank: { rank: 2, layers: ['output'] } }, 0, { softmax: f.softmax })).toThrow(/drop 'output' from config.lowrank.layers/);
    expect(() => new LstmLm(V, { ...cfg, hidden: 6 }, 0, { softmax: f.softmax })).toThrow(/softmax factors are 24×5, the model's A = Wᵀ is vocab 24 × hidden 6/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains its factors: every variable has a gradient, matching finite differences', () => {
    const before = tf.memory().numTensors;
    const dense = new LstmLm(V, cfg, 3);
    const model = new LstmLm(V, cfg, 3, factorize(dense.exportWeights()));
    dense.dispose();
    const state = { h: [0, 1].map(() => tf.fill([B, cfg.hidden], 0.3) as tf.Tensor2D), c: [0, 1].map(() => tf.fill([B, cfg.hidden], -0.2) as tf.Tensor2D) };
    const { value, grads } = tf.variableGrads(() => model.forward(x, y, B, state).lossSum, model.variables);
    const factors = [...model.factorized.embedding!.variables, ...model.factorized.softmax!.variables];
    expect(factors.length).toBeGreaterThan(6);
    for (const v of model.variables) expect(grads[v.name], v.name).toBeDefined();
    for (const v of factors) {
      const g = grads[v.name]!.dataSync();
      expect(g.some((e) => e !== 0), v.name).toBe(true);
      const idx = [...new Set([0, Math.floor(v.size / 2), v.size - 1])];
      // as the other LSTM LM gradient tests: eps 1e-2 on a float32 loss ≈ 80, rtol 1e-2, atol 2e-3
      expectClose(finiteDifferences(() => loss(model), v, idx, 1e-2), idx.map((i) => g[i]!), { rtol: 1e-2, atol: 2e-3 });
    }
    tf.dispose([value, ...Object.values(grads), ...state.h, ...state.c]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('saves → checkpoint bytes → loads, after fine-tuning, with the same loss', () => {
    const before = tf.memory().numTensors;
    const dense = new LstmLm(V, cfg, 4);
    const model = new LstmLm(V, cfg, 4, { weights: dense.exportWeights(), ...factorize(dense.exportWeights()) });
    dense.dispose();
    // a few SGD steps, so the factors and the permuted bias differ from the compressed start
    const zero = model.zeroState(B);
    for (let step = 0; step < 3; step++) {
      const { value, grads } = tf.variableGrads(() => model.forward(x, y, B, zero).lossSum, model.variables);
      for (const v of model.variables) tf.tidy(() => v.assign(tf.sub(v, tf.mul(grads[v.name]!, 0.1))));
      tf.dispose([value, ...Object.values(grads)]);
    }
    tf.dispose([...zero.h, ...zero.c]);
    const weights = model.exportWeights();
    expect(weights['embedding/wordBlock']!.data).toBeInstanceOf(Int32Array);
    expect(weights['softmax/wordRow']!.data).toBeInstanceOf(Int32Array);
    expect(Object.keys(weights).filter((k) => k.startsWith('softmax/'))).toEqual([...model.factorized.softmax!.vt.flatMap((_, p) => [`softmax/Vt.${p}`, `softmax/Ut.${p}`]), 'softmax/b', 'softmax/wordBlock', 'softmax/wordRow']);
    const bytes = encodeCheckpoint(weights, { method: 'groupreduce' });
    const { tensors, metadata } = decodeCheckpoint(bytes);
    const loaded = LstmLm.fromWeights(V, cfg, tensors, { method: metadata['method'] as 'groupreduce' });
    expect(loss(loaded)).toBe(loss(model));
    expect(loaded.exportWeights()).toEqual(weights);
    expect(loaded.factorized.softmax!.toFactorized()).toEqual({ ...model.factorized.softmax!.toFactorized(), method: 'groupreduce' });
    expect(lstmLmParamCount(V, cfg, loaded.factorizedParams())).toEqual(lstmLmParamCount(V, cfg, model.factorizedParams()));
    model.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
