import * as tf from '@tensorflow/tfjs-core';
import { compress, expectClose, type Factorized, reconstruct } from '@lmsweep/algorithms';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { checkFactorized, FactorizedEmbedding, factorizedFromWeights, FactorizedSoftmax } from './factorized.ts';
import { createRng } from './random.ts';
import { finiteDifferences } from './testing.ts';

// Forward values: float32 sums of ≤ 6 products of O(1) factors against float64 references:
// rtol 1e-5, atol 1e-5 (observed ≤ 3e-7).
const F32 = { rtol: 1e-5, atol: 1e-5 };

const rng = createRng(7, 2);
const uniform = (n: number) => Float64Array.from({ length: n }, () => rng.next() * 2 - 1);
const [N, D] = [30, 6];

/**
 * A 30×6 matrix with Zipf-like frequencies, compressed by dynamic rank and GroupReduce at rate
 * ≈ 1.2 into 4 frequency blocks: ranks 6, 3, 1, 1, words scattered over the blocks.
 */
function fixture(method: 'dynamic-rank' | 'groupreduce'): Factorized {
  const r = createRng(7, 2);
  const A = { data: Float64Array.from({ length: N * D }, () => r.next() * 2 - 1), rows: N, cols: D };
  const q = Float64Array.from({ length: N }, () => 1 / (1 + Math.floor(r.next() * N)) ** 1.2);
  return compress(method, A, q, { rate: 1.2, blocks: 4, iters: 3, tolerance: 0.1 });
}

/** x:[n, d] · Âᵀ + b in float64, Â = reconstruct(f):[N, d]. */
function denseLogits(x: Float64Array, n: number, f: Factorized, b: Float32Array): Float64Array {
  const a = reconstruct(f);
  const out = new Float64Array(n * f.N);
  for (let i = 0; i < n; i++) {
    for (let w = 0; w < f.N; w++) {
      let s = b[w]!;
      for (let d = 0; d < f.D; d++) s += x[i * f.D + d]! * a[w * f.D + d]!;
      out[i * f.N + w] = s;
    }
  }
  return out;
}

/** Σᵢ −log softmax(zᵢ)[yᵢ] in float64. */
function crossEntropy(z: Float64Array, n: number, V: number, y: Int32Array): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const row = z.subarray(i * V, (i + 1) * V);
    const mx = Math.max(...row);
    loss += Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0)) + mx - row[y[i]!]!;
  }
  return loss;
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe.each(['dynamic-rank', 'groupreduce'] as const)('factorized layers from %s', (method) => {
  const f = fixture(method);

  it('fixture: several blocks, unequal ranks, words not contiguous', () => {
    expect(f.blocks.length).toBeGreaterThan(2);
    expect(new Set(f.blocks.map((b) => b.rank)).size).toBeGreaterThan(1);
    for (const b of f.blocks) expect(Array.from(b.rows)).not.toEqual(Array.from(b.rows).sort((x, y) => x - y));
    expect(() => checkFactorized(f)).not.toThrow();
  });

  it('embedding: looked-up rows are the reconstruction’s, in token order', () => {
    const before = tf.memory().numTensors;
    const emb = new FactorizedEmbedding(f, `emb-fwd-${method}`);
    const a = reconstruct(f);
    const one = f.blocks[2]!.rows;
    for (const ids of [new Int32Array([29, 0, 4, 4, 17, 20, 1, 0, 12]), Int32Array.from({ length: N }, (_, i) => N - 1 - i), Int32Array.from([one[1]!, one[0]!, one[1]!]), new Int32Array(0)]) {
      const rows = emb.lookup(ids);
      expect(rows.shape).toEqual([ids.length, D]);
      expectClose(rows.dataSync(), Float64Array.from({ length: ids.length * D }, (_, k) => a[ids[Math.floor(k / D)]! * D + (k % D)]!), F32);
      rows.dispose();
    }
    expect(() => emb.lookup(new Int32Array([3, N]))).toThrow(/token id 30 at 1 outside the vocabulary 0..29/);
    emb.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('embedding: every variable’s gradient matches finite differences; untouched blocks get zeros', () => {
    const before = tf.memory().numTensors;
    const emb = new FactorizedEmbedding(f, `emb-grad-${method}`);
    // every block but the last, words repeated and out of order
    const skip = f.blocks.length - 1;
    const ids = Int32Array.from([...f.blocks.slice(0, skip).flatMap((b) => Array.from(b.rows).reverse()), f.blocks[0]!.rows[1]!, f.blocks[1]!.rows[0]!]);
    const G = tf.tensor2d(Float32Array.from(uniform(ids.length * D)), [ids.length, D]);
    const loss = () => tf.tidy(() => tf.sum(tf.mul(emb.lookup(ids), G)) as tf.Scalar);
    const { value, grads } = tf.variableGrads(loss, emb.variables);
    expect(Object.keys(grads).sort()).toEqual(emb.variables.map((v) => v.name).sort());
    for (const v of emb.variables) {
      const g = grads[v.name]!.dataSync();
      const idx = Array.from({ length: v.size }, (_, i) => i);
      // The loss is linear in each single entry: central differences are exact up to float32
      // rounding of a loss of magnitude ≈ 10 (≈ 1e-6 / 2eps): rtol 1e-3, atol 1e-4.
      expectClose(finiteDifferences(() => tf.tidy(() => loss().dataSync()[0]!), v, idx, 0.05), Array.from(g), { rtol: 1e-3, atol: 1e-4 });
    }
    for (const name of [emb.u[skip]!.name, emb.v[skip]!.name]) expect(Array.from(grads[name]!.dataSync()).every((x) => x === 0)).toBe(true);
    tf.dispose([value, G, ...Object.values(grads)]);
    emb.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('softmax: logits are x·Âᵀ + b in word order, lossSum the summed cross-entropy', () => {
    const before = tf.memory().numTensors;
    const bias = Float32Array.from(uniform(N));
    const sm = new FactorizedSoftmax(f, bias, `sm-fwd-${method}`);
    const n = 5;
    const x = uniform(n * D);
    const X = tf.tensor2d(Float32Array.from(x), [n, D]);
    const y = new Int32Array([3, 29, 0, 3, 17]);
    const ref = denseLogits(Float64Array.from(Float32Array.from(x)), n, f, bias);
    tf.tidy(() => {
      expectClose(sm.logits(X).dataSync(), ref, F32);
      // Σ of n log-sum-exps over 30 words in float32: rtol 1e-5 of a loss ≈ 15
      expectClose(sm.lossSum(X, y).dataSync()[0]!, crossEntropy(ref, n, N, y), { rtol: 1e-5 });
    });
    expect(() => sm.lossSum(X, new Int32Array([0, 1, 2, 3, -1]))).toThrow(/target -1 at 4 outside the vocabulary 0..29/);
    X.dispose();
    sm.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('softmax: every variable’s gradient matches finite differences', () => {
    const before = tf.memory().numTensors;
    const sm = new FactorizedSoftmax(f, Float32Array.from(uniform(N)), `sm-grad-${method}`);
    const n = 4;
    const X = tf.tensor2d(Float32Array.from(uniform(n * D)), [n, D]);
    const y = new Int32Array([f.blocks[0]!.rows[2]!, f.blocks[1]!.rows[0]!, f.blocks[3]!.rows[4]!, 7]);
    const { value, grads } = tf.variableGrads(() => sm.lossSum(X, y), sm.variables);
    for (const v of sm.variables) {
      const g = grads[v.name]!.dataSync();
      const idx = Array.from({ length: v.size }, (_, i) => i);
      // eps 1e-2 on a float32 loss ≈ 12: truncation (eps²·f‴/6) and rounding (≈ 1e-6/2eps) both
      // below 1e-4: rtol 1e-2, atol 5e-4.
      expectClose(finiteDifferences(() => tf.tidy(() => sm.lossSum(X, y).dataSync()[0]!), v, idx, 1e-2), Array.from(g), { rtol: 1e-2, atol: 5e-4 });
    }
    tf.dispose([value, X, ...Object.values(grads)]);
    sm.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the cpu backend (tf.split instead of the wasm column copy) gives the same gradients', async () => {
    const bias = Float32Array.from(uniform(N));
    const x = Float32Array.from(uniform(3 * D));
    const ids = new Int32Array([4, 29, 4, 11, 0, 17]);
    const G = Float32Array.from(uniform(ids.length * D));
    const run = async (backend: 'wasm' | 'cpu') => {
      await selectBackend(backend);
      const emb = new FactorizedEmbedding(f, `emb-${backend}-${method}`);
      const sm = new FactorizedSoftmax(f, bias, `sm-${backend}-${method}`);
      const [X, GT] = [tf.tensor2d(x, [3, D]), tf.tensor2d(G, [ids.length, D])];
      const vars = [...emb.variables, ...sm.variables];
      const { value, grads } = tf.variableGrads(() => tf.add(sm.lossSum(X, new Int32Array([1, 28, 13])), tf.sum(tf.mul(emb.lookup(ids), GT))) as tf.Scalar, vars);
      const out = [value.dataSync()[0]!, ...vars.flatMap((v) => Array.from(grads[v.name]!.dataSync()))];
      tf.dispose([value, X, GT, ...Object.values(grads)]);
      emb.dispose();
      sm.dispose();
      return out;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    // the same float32 arithmetic in another order: rtol 1e-5, atol 1e-6
    expectClose(cpu, wasm, { rtol: 1e-5, atol: 1e-6 });
  });

  it('counts parameters exactly and exports the factors it holds', () => {
    const before = tf.memory().numTensors;
    const bias = Float32Array.from(uniform(N));
    const emb = new FactorizedEmbedding(f, `emb-count-${method}`);
    const sm = new FactorizedSoftmax(f, bias, `sm-count-${method}`);
    const size = (vs: tf.Variable[]) => vs.reduce((a, v) => a + v.size, 0);
    expect(emb.paramCount()).toBe(f.params);
    expect(size(emb.variables)).toBe(f.params);
    expect(sm.paramCount()).toBe(f.params + N);
    expect(size(sm.variables)).toBe(f.params + N);
    expect(f.params).toBe(f.blocks.reduce((a, b) => a + b.rows.length * b.rank + b.rank * D, 0));
    // toFactorized and the weights give back f itself (float32 copies, no arithmetic)
    const same = (g: Factorized) => {
      expect(g.blocks.map((b) => [Array.from(b.rows), b.rank, Array.from(b.U), Array.from(b.V)])).toEqual(f.blocks.map((b) => [Array.from(b.rows), b.rank, Array.from(b.U), Array.from(b.V)]));
      expect([g.N, g.D, g.params, g.rate, Array.from(g.wordBlock), Array.from(g.wordRow)]).toEqual([f.N, f.D, f.params, f.rate, Array.from(f.wordBlock), Array.from(f.wordRow)]);
    };
    same(emb.toFactorized());
    same(sm.toFactorized());
    same(factorizedFromWeights(emb.exportWeights(), 'embedding', method));
    same(factorizedFromWeights(sm.exportWeights(), 'softmax', method));
    expect(Array.from(sm.bias())).toEqual(Array.from(bias));
    expect(sm.exportWeights()['b']!.data).toEqual(bias);
    expect(Object.keys(emb.exportWeights())).toEqual([...f.blocks.flatMap((_, p) => [`U.${p}`, `V.${p}`]), 'wordBlock', 'wordRow']);
    emb.dispose();
    sm.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fine-tuned values are what toFactorized saves', () => {
    const before = tf.memory().numTensors;
    const emb = new FactorizedEmbedding(f, `emb-tune-${method}`);
    const sm = new FactorizedSoftmax(f, new Float32Array(N), `sm-tune-${method}`);
    const ids = Int32Array.from({ length: N }, (_, i) => (i * 7) % N);
    // one SGD step on both layers
    const { value, grads } = tf.variableGrads(() => sm.lossSum(tf.tanh(emb.lookup(ids)), ids), [...emb.variables, ...sm.variables]);
    for (const v of [...emb.variables, ...sm.variables]) tf.tidy(() => v.assign(tf.sub(v, tf.mul(grads[v.name]!, 0.5))));
    tf.dispose([value, ...Object.values(grads)]);
    const all = Int32Array.from({ length: N }, (_, i) => i);
    const e2 = emb.toFactorized();
    expect(Array.from(e2.blocks[0]!.U)).not.toEqual(Array.from(f.blocks[0]!.U));
    tf.tidy(() => expectClose(emb.lookup(all).dataSync(), reconstruct(e2), F32));
    const X = tf.tensor2d(Float32Array.from(uniform(2 * D)), [2, D]);
    const reloaded = new FactorizedSoftmax(sm.toFactorized(), sm.bias(), `sm-tune2-${method}`);
    tf.tidy(() => expectClose(reloaded.logits(X).dataSync(), sm.logits(X).dataSync(), { rtol: 0, atol: 0 }));
    tf.dispose([X]);
    for (const l of [emb, sm, reloaded]) l.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('factorized layers at scale', () => {
  /** N words shuffled into blocks of the given ranks, random factors. */
  function randomFactorized(words: number, dim: number, ranks: number[]): Factorized {
    const r = createRng(3, 4);
    const perm = Int32Array.from({ length: words }, (_, i) => i);
    for (let i = words - 1; i > 0; i--) {
      const j = Math.floor(r.next() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    const wordBlock = new Int32Array(words);
    const wordRow = new Int32Array(words);
    const size = Math.ceil(words / ranks.length);
    const blocks = ranks.map((rank, p) => {
      const rows = perm.slice(p * size, (p + 1) * size);
      rows.forEach((w, t) => {
        wordBlock[w] = p;
        wordRow[w] = t;
      });
      return { rows, rank, U: r.fillUniform(new Float32Array(rows.length * rank), -1, 1), V: r.fillUniform(new Float32Array(rank * dim), -1, 1) };
    });
    const params = blocks.reduce((a, b) => a + b.rows.length * b.rank + b.rank * dim, 0);
    return { method: 'groupreduce', N: words, D: dim, blocks, wordBlock, wordRow, params, rate: (words * dim) / params };
  }

  it('never allocates an N×D matrix, forward or backward', async () => {
    const [words, dim] = [2000, 256];
    const f = randomFactorized(words, dim, [4, 2, 1]);
    const dense = words * dim * 4;
    expect(f.params * 4).toBeLessThan(dense / 10);
    const base = tf.memory().numBytes;
    const emb = new FactorizedEmbedding(f, 'emb-scale');
    const sm = new FactorizedSoftmax(f, new Float32Array(words), 'sm-scale');
    const start = tf.memory().numBytes;
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => sm.lossSum(emb.lookup(new Int32Array([5, 1999, 5, 1234])), new Int32Array([0, 1, 2, 3])), [...emb.variables, ...sm.variables]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    // The big tensors are copies of the logits [4, N] (32 kB; wasm clones what a custom gradient
    // saves) and the factors' gradients (≈ params, 26 kB): the peak (observed 240 kB) stays below
    // half of one N×D matrix (2 MB).
    expect(profile.peakBytes - start).toBeLessThan(dense / 2);
    emb.dispose();
    sm.dispose();
    expect(tf.memory().numBytes).toBe(base);
  });

  it('refuses an inconsistent factorization, naming what is wrong', () => {
    const f = randomFactorized(12, 3, [2, 1]);
    expect(() => checkFactorized({ ...f, params: f.params + 1 })).toThrow(/params is \d+, the blocks hold \d+/);
    const w = f.blocks[0]!.rows[0]!;
    expect(() => checkFactorized({ ...f, wordRow: f.wordRow.map((r, i) => (i === w ? r + 1 : r)) })).toThrow(new RegExp(`word ${w} is row 0 of block 0`));
    expect(() => checkFactorized({ ...f, blocks: [{ ...f.blocks[0]!, U: new Float32Array(3) }, f.blocks[1]!] })).toThrow(/block 0: U has 3 values/);
    expect(() => new FactorizedSoftmax(f, new Float32Array(11), 'sm-bad')).toThrow(/bias has 11 values, N=12/);
    const emb = new FactorizedEmbedding(f, 'emb-bad');
    const weights = emb.exportWeights();
    emb.dispose();
    expect(() => factorizedFromWeights({ ...weights, 'V.1': { shape: [2, 3], data: new Float32Array(6) } }, 'embedding')).toThrow(/"V.1" has shape \[2,3\], expected \[1,3\]/);
    const { ['U.0']: _, ...noU } = weights;
    expect(() => factorizedFromWeights(noU, 'embedding')).toThrow(/"U.0" is missing/);
    expect(() => factorizedFromWeights({ ...weights, wordBlock: { shape: [12], data: new Float32Array(12) } }, 'embedding')).toThrow(/"wordBlock" must be I32/);
  });
});
