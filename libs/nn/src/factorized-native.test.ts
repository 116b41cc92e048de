// The factorized embedding and block softmax on the native kernels (factorized-native.ts) against
// the wasm path (tf ops, XNNPACK) they replace, on the same inputs in one process: loss and every
// gradient within float32 tolerances; finite differences on the native path; and that the native
// path runs no tfjs matrix product at all (the layers were off the native path before).
import * as tf from '@tensorflow/tfjs-core';
import { expectClose, type Factorized } from '@lmsweep/algorithms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { FactorizedEmbedding, FactorizedSoftmax } from './factorized.ts';
import { LstmLm } from './lstm-lm.ts';
import { nativeKernelsBuilt } from './native.ts';
import { createRng } from './random.ts';
import { finiteDifferences } from './testing.ts';

const rng = createRng(21, 5);
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);

/** N words shuffled into blocks of these sizes and ranks, random factors (scale s). */
function randomFactorized(N: number, D: number, sizes: number[], ranks: number[], s = 0.5): Factorized {
  const r = createRng(9, 1);
  const perm = Int32Array.from({ length: N }, (_, i) => i);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(r.next() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const wordBlock = new Int32Array(N);
  const wordRow = new Int32Array(N);
  let at = 0;
  const blocks = sizes.map((m, p) => {
    const rows = perm.slice(at, at + m);
    at += m;
    rows.forEach((w, t) => {
      wordBlock[w] = p;
      wordRow[w] = t;
    });
    const rank = ranks[p]!;
    return { rows, rank, U: r.fillUniform(new Float32Array(m * rank), -s, s), V: r.fillUniform(new Float32Array(rank * D), -s, s) };
  });
  const params = blocks.reduce((a, b) => a + b.rows.length * b.rank + b.rank * D, 0);
  return { method: 'groupreduce', N, D, blocks, wordBlock, wordRow, params, rate: (N * D) / params };
}

// Blocks of unequal sizes and ranks around the kernels' blocking (MR 6, NR 16): ranks 1 to 19.
const [N, D] = [203, 21];
const f = randomFactorized(N, D, [37, 80, 50, 36], [19, 7, 2, 1]);

/** A trainable [rows, cols] variable holding data (the initial tensor disposed). */
function variable(data: Float32Array, shape: [number, number], name: string): tf.Variable<tf.Rank.R2> {
  const t = tf.tensor2d(data, shape);
  const v = tf.variable(t, true, name);
  t.dispose();
  return v;
}

/** f run with the native kernels, then without. */
async function onBoth<T>(run: () => T): Promise<{ native: T; wasm: T }> {
  await selectBackend('wasm', { native: true });
  const native = run();
  await selectBackend('wasm', { native: false });
  const wasm = run();
  return { native, wasm };
}

/** The value and the gradients of loss in xs (tensors) and vars, as plain arrays. */
function valueAndGrads(loss: () => tf.Scalar, vars: tf.Variable[]): Float32Array[] {
  const { value, grads } = tf.variableGrads(loss, vars);
  const out = [value.dataSync().slice() as Float32Array, ...vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array)];
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

describe.skipIf(!nativeKernelsBuilt())('factorized layers on the native kernels against the wasm path', () => {
  beforeAll(async () => {
    await selectBackend('wasm', { native: true });
  });
  afterAll(async () => {
    await selectBackend('wasm', { native: true });
  });

  const bias = randn(N, 2);
  const n = 29;
  const xData = randn(n * D, 1.5);
  // every block hit, a word repeated
  const targets = Int32Array.from({ length: n }, (_, i) => (i * 37 + 11) % N);
  targets[5] = targets[3]!;

  it('block softmax: the loss and the gradients in x, every Vtₚ, Utₚ and b agree (loss rtol 1e-5; gradients rtol 1e-4, atol 1e-6)', async () => {
    const before = tf.memory().numTensors;
    const run = () => {
      const sm = new FactorizedSoftmax(f, bias, 'sm-native-vs-wasm');
      const x = variable(xData, [n, D], 'sm-native-vs-wasm/x');
      const out = valueAndGrads(() => sm.lossSum(x, targets), [x, ...sm.variables]);
      x.dispose();
      sm.dispose();
      return out;
    };
    const { native, wasm } = await onBoth(run);
    expect(native.length).toBe(2 + 2 * f.blocks.length + 1);
    expectClose(native[0]!, wasm[0]!, { rtol: 1e-5 });
    native.slice(1).forEach((g, i) => {
      expect(g.some((v) => v !== 0)).toBe(true);
      expectClose(g, wasm[i + 1]!, { rtol: 1e-4, atol: 1e-6 });
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('embedding: rows and the gradients of every Uₚ and Vₚ agree, repeated ids summed, an untouched block zero (rtol 1e-5, atol 1e-6)', async () => {
    const before = tf.memory().numTensors;
    // blocks 0, 1 and 3 (block 2 untouched), out of order, repeats
    const pick = (p: number, ts: number[]) => ts.map((t) => f.blocks[p]!.rows[t]!);
    const ids = Int32Array.from([...pick(1, [5, 0, 79, 5]), ...pick(0, [36, 2, 2, 2]), ...pick(3, [0, 35, 17]), ...pick(1, [5])]);
    const G = randn(ids.length * D);
    const run = () => {
      const emb = new FactorizedEmbedding(f, 'emb-native-vs-wasm');
      const g = tf.tensor2d(G, [ids.length, D]);
      const rows = tf.tidy(() => emb.lookup(ids).dataSync().slice() as Float32Array);
      const out = [rows, ...valueAndGrads(() => tf.sum(tf.mul(emb.lookup(ids), g)) as tf.Scalar, emb.variables)];
      const empty = emb.lookup(new Int32Array(0));
      expect(empty.shape).toEqual([0, D]);
      tf.dispose([g, empty]);
      emb.dispose();
      return out;
    };
    const { native, wasm } = await onBoth(run);
    native.forEach((a, i) => expectClose(a, wasm[i]!, { rtol: 1e-5, atol: 1e-6 }));
    // [rows, loss, U.0, V.0, U.1, V.1, U.2, V.2, …]: block 2's gradients are exactly zero
    for (const g of [native[2 + 4]!, native[2 + 5]!]) expect(g.every((v) => v === 0)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a 2-layer LSTM LM with both layers factorized: loss and every parameter gradient agree (loss rtol 1e-5; gradients rtol 1e-4, atol 1e-6)', async () => {
    const [B, T] = [3, 7];
    const V = 203;
    const cfg = { embedding: D, hidden: D, layers: 2, dropout: 0, initScale: 0.3 };
    const x = Int32Array.from({ length: T * B }, (_, i) => (i * 13 + 1) % V);
    const y = Int32Array.from({ length: T * B }, (_, i) => (i * 7 + 3) % V);
    const softmax = randomFactorized(V, D, [100, 60, 43], [9, 3, 1], 0.3);
    const before = tf.memory().numTensors;
    const run = () => {
      const model = new LstmLm(V, cfg, 5, { embedding: f, softmax });
      const state = model.zeroState(B);
      const out = valueAndGrads(() => model.forward(x, y, B, state).lossSum, model.variables);
      tf.dispose([...state.h, ...state.c]);
      model.dispose();
      return out;
    };
    const { native, wasm } = await onBoth(run);
    expectClose(native[0]!, wasm[0]!, { rtol: 1e-5 });
    native.slice(1).forEach((g, i) => expectClose(g, wasm[i + 1]!, { rtol: 1e-4, atol: 1e-6 }));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('block softmax on the native kernels: gradients match finite differences', async () => {
    await selectBackend('wasm', { native: true });
    const small = randomFactorized(30, 5, [12, 11, 7], [4, 2, 1]);
    const sm = new FactorizedSoftmax(small, randn(30), 'sm-native-fd');
    const X = variable(randn(4 * 5), [4, 5], 'sm-native-fd/x');
    const y = new Int32Array([small.blocks[0]!.rows[2]!, small.blocks[1]!.rows[0]!, small.blocks[2]!.rows[4]!, 7]);
    const loss = () => tf.tidy(() => sm.lossSum(X, y).dataSync()[0]!);
    const [, ...grads] = valueAndGrads(() => sm.lossSum(X, y), [X, ...sm.variables]);
    [X, ...sm.variables].forEach((v, j) => {
      const idx = Array.from({ length: v.size }, (_, i) => i);
      // eps 1e-2 on a float32 loss ≈ 12: truncation (eps²·f‴/6) and rounding (≈ 1e-6/2eps) both
      // below 1e-4: rtol 1e-2, atol 5e-4 (as the wasm path's test in factorized.test.ts)
      expectClose(finiteDifferences(loss, v, idx, 1e-2), grads[j]!, { rtol: 1e-2, atol: 5e-4 });
    });
    X.dispose();
    sm.dispose();
  });

  it('runs no tfjs matrix product: both layers, forward and backward, are in the native kernels', async () => {
    await selectBackend('wasm', { native: true });
    const emb = new FactorizedEmbedding(f, 'emb-native-kernels');
    const sm = new FactorizedSoftmax(f, bias, 'sm-native-kernels');
    const ids = Int32Array.from({ length: n }, (_, i) => (i * 5) % N);
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => sm.lossSum(tf.tanh(emb.lookup(ids)) as tf.Tensor2D, targets), [...emb.variables, ...sm.variables]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const names = new Set(profile.kernels.map((k) => k.name));
    expect(names.has('Tanh')).toBe(true);
    for (const k of ['BatchMatMul', '_FusedMatMul', 'GatherV2', 'ScatterNd', 'Transpose', 'Concat']) expect(names.has(k), k).toBe(false);
    emb.dispose();
    sm.dispose();
  });
});
