import * as tf from '@tensorflow/tfjs-core';
import { expectClose, phmMaterialize, phmParamCount } from '@lmsweep/algorithms';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { matMul } from './ops.ts';
import { choosePhmPath, FACTORED_MAX_BATCH, PhmDense, phmDenseParamCount, phmFactoredMatMul, phmMatMul, type PhmOrder, phmWeight } from './phm.ts';
import { createRng } from './random.ts';
import { nativeKernelsBuilt } from './native.ts';
import { TEST_BACKENDS } from './testing.ts';

// float32 products of O(1) values summed over ≤ 48 terms against float64 references:
// rtol 1e-4, atol 1e-5 (observed errors ≈ 1e-7 … 1e-6).
const F32 = { rtol: 1e-4, atol: 1e-5 };
const rng = createRng(5, 3);
const uniform = (n: number, scale = 1) => Float64Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);

/** y = x·W and the loss Σ y⊙R, in float64. */
function refLoss(x: Float64Array, a: ArrayLike<number>, s: ArrayLike<number>, r: Float64Array, B: number, d: number, k: number, n: number): number {
  const w = phmMaterialize(a, s, { d, k, n });
  let loss = 0;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < k; j++) {
      let y = 0;
      for (let i = 0; i < d; i++) y += x[b * d + i]! * w[i * k + j]!;
      loss += y * r[b * k + j]!;
    }
  }
  return loss;
}

/** Central differences of a float64 function at every index of v (eps 1e-6: error ≈ 1e-9 here). */
function fd64(f: (v: Float64Array) => number, v: Float64Array, eps = 1e-6): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const keep = v[i]!;
    v[i] = keep + eps;
    const up = f(v);
    v[i] = keep - eps;
    const down = f(v);
    v[i] = keep;
    out[i] = (up - down) / (2 * eps);
  }
  return out;
}

const CASES: [B: number, d: number, k: number, n: number][] = [
  [3, 8, 12, 2],
  [5, 12, 8, 4],
  [1, 6, 9, 3],
  [2, 16, 16, 8],
  // the native weight kernels' row blocks (8) and lanes (16): p = 20, q = 36
  [3, 40, 72, 2],
];
const ORDERS: PhmOrder[] = ['mix-first', 'contract-first'];

describe.each(TEST_BACKENDS)('PHM on %s', (label, backend, native) => {
  it('selects the backend', async () => {
    const info = await selectBackend(backend, { native });
    expect(info.backend).toBe(backend);
    if (backend === 'wasm') expect(info.device.includes('native kernels')).toBe(native);
  });

  it.each(CASES)('forward: materialized, factored (both orders) and the float64 reference agree (B=%d, d=%d, k=%d, n=%d)', (B, d, k, n) => {
    const before = tf.memory().numTensors;
    const [x, a, s] = [uniform(B * d), uniform(n ** 3), uniform(n * (d / n) * (k / n))];
    const w = phmMaterialize(a, s, { d, k, n });
    const ref = new Float64Array(B * k);
    for (let b = 0; b < B; b++) for (let j = 0; j < k; j++) for (let i = 0; i < d; i++) ref[b * k + j]! += x[b * d + i]! * w[i * k + j]!;
    const [X, A, S] = [tf.tensor2d(Float32Array.from(x), [B, d]), tf.tensor3d(Float32Array.from(a), [n, n, n]), tf.tensor3d(Float32Array.from(s), [n, d / n, k / n])];
    tf.tidy(() => {
      expectClose(phmWeight(A, S).dataSync(), w, F32);
      expectClose(phmMatMul(X, A, S, 'materialized').dataSync(), ref, F32);
      for (const order of ORDERS) expectClose(phmFactoredMatMul(X, A, S, order).dataSync(), ref, F32);
    });
    tf.dispose([X, A, S]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(CASES)('gradients: both paths equal each other and float64 finite differences (B=%d, d=%d, k=%d, n=%d)', (B, d, k, n) => {
    const [x, a, s, r] = [uniform(B * d), uniform(n ** 3), uniform(n * (d / n) * (k / n)), uniform(B * k)];
    const [X, A, S, R] = [tf.tensor2d(Float32Array.from(x), [B, d]), tf.tensor3d(Float32Array.from(a), [n, n, n]), tf.tensor3d(Float32Array.from(s), [n, d / n, k / n]), tf.tensor2d(Float32Array.from(r), [B, k])];
    const before = tf.memory().numTensors;
    const expected = {
      x: fd64((v) => refLoss(v, a, s, r, B, d, k, n), x),
      a: fd64((v) => refLoss(x, v, s, r, B, d, k, n), a),
      s: fd64((v) => refLoss(x, a, v, r, B, d, k, n), s),
    };
    const run = (f: (x: tf.Tensor2D, a: tf.Tensor3D, s: tf.Tensor3D) => tf.Tensor2D) => {
      const grads = tf.grads((xx, aa, ss) => tf.sum(tf.mul(f(xx as tf.Tensor2D, aa as tf.Tensor3D, ss as tf.Tensor3D), R)))([X, A, S]);
      const out = grads.map((g) => g.dataSync().slice());
      tf.dispose(grads);
      return out;
    };
    const results = [run((xx, aa, ss) => phmMatMul(xx, aa, ss, 'materialized')), ...ORDERS.map((o) => run((xx, aa, ss) => phmFactoredMatMul(xx, aa, ss, o)))];
    for (const [gx, ga, gs] of results) {
      expectClose(gx!, expected.x, F32);
      expectClose(ga!, expected.a, F32);
      expectClose(gs!, expected.s, F32);
    }
    // the paths against each other (tighter: same float32 inputs)
    for (const other of results.slice(1)) other.forEach((g, i) => expectClose(g, results[0]![i]!, F32));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([X, A, S, R]);
  });

  it('n = 1 is a dense layer, on both paths', () => {
    const [B, d, k] = [4, 5, 7];
    const w = uniform(d * k);
    const x = tf.tensor2d(Float32Array.from(uniform(B * d)), [B, d]);
    const W = tf.tensor2d(Float32Array.from(w), [d, k]);
    const layer = new PhmDense({ inputSize: d, outputSize: k, n: 1, rng, name: `phm-n1-${label}` });
    layer.a.assign(tf.tensor3d([1], [1, 1, 1]));
    layer.s.assign(tf.tensor3d(Float32Array.from(w), [1, d, k]));
    layer.b!.assign(tf.tensor1d(Float32Array.from(uniform(k))));
    const dense = tf.add(matMul(x, W), layer.b!);
    for (const path of ['materialized', 'factored', 'auto'] as const) expectClose(layer.apply(x, path).dataSync(), dense.dataSync(), F32);
    layer.dispose();
    tf.dispose([x, W, dense]);
  });

  it('counts parameters exactly, refuses a bad n and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    for (const [d, k, n] of [[8, 12, 2], [200, 800, 4], [16, 16, 8], [6, 3, 1]] as const) {
      for (const bias of [true, false]) {
        const layer = new PhmDense({ inputSize: d, outputSize: k, n, rng, bias, name: `phm-count-${label}-${d}-${k}-${n}-${bias}` });
        const size = layer.variables.reduce((acc, v) => acc + v.size, 0);
        expect(size).toBe(layer.paramCount());
        expect(layer.paramCount()).toBe((d * k) / n + n ** 3 + (bias ? k : 0));
        expect(phmDenseParamCount(d, k, n, bias)).toBe(phmParamCount(d, k, n) + (bias ? k : 0));
        const x = tf.ones([3, d]) as tf.Tensor2D;
        const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x)) as tf.Scalar, layer.variables);
        tf.dispose([x, value, ...Object.values(grads)]);
        layer.dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new PhmDense({ inputSize: 64, outputSize: 256, n: 3, rng, name: 'bad' })).toThrow(/PhmDense bad: n=3 does not divide input size d=64 or output size k=256/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('initializes Aᵢ and Sᵢ Glorot-uniform, each as its own matrix', () => {
    const [d, k, n] = [40, 80, 4];
    const layer = new PhmDense({ inputSize: d, outputSize: k, n, rng, name: `phm-init-${label}` });
    const maxAbs = (v: tf.Tensor) => Math.max(...Array.from(v.dataSync()).map(Math.abs));
    expect(maxAbs(layer.a)).toBeLessThanOrEqual(Math.sqrt(6 / (2 * n)));
    expect(maxAbs(layer.a)).toBeGreaterThan(0.5 * Math.sqrt(6 / (2 * n)));
    expect(maxAbs(layer.s)).toBeLessThanOrEqual(Math.sqrt(6 / (d / n + k / n)));
    expect(Array.from(layer.b!.dataSync()).every((v) => v === 0)).toBe(true);
    layer.dispose();
  });
});

describe('choosePhmPath', () => {
  it('factors small batches and materializes large ones (the XNNPACK prior)', () => {
    expect(choosePhmPath(1, 4, 'xnnpack')).toBe('factored');
    expect(choosePhmPath(FACTORED_MAX_BATCH, 2, 'xnnpack')).toBe('factored');
    expect(choosePhmPath(FACTORED_MAX_BATCH + 1, 2, 'xnnpack')).toBe('materialized');
    expect(choosePhmPath(700, 8, 'xnnpack')).toBe('materialized');
    expect(choosePhmPath(1, 1, 'xnnpack')).toBe('materialized');
  });
});

describe.skipIf(!nativeKernelsBuilt())('PHM weight on the native kernels', () => {
  it('is built and differentiated in the addon: no tfjs transpose or matrix product, forward or backward', async () => {
    await selectBackend('wasm', { native: true });
    const [n, p, q] = [4, 6, 5];
    const A = tf.tensor3d(Float32Array.from(uniform(n ** 3)), [n, n, n]);
    const S = tf.tensor3d(Float32Array.from(uniform(n * p * q)), [n, p, q]);
    const R = tf.tensor2d(Float32Array.from(uniform(n * p * n * q)), [n * p, n * q]);
    const profile = await tf.profile(() => {
      const grads = tf.grads((aa, ss) => tf.sum(tf.mul(phmWeight(aa as tf.Tensor3D, ss as tf.Tensor3D), R)))([A, S]);
      tf.dispose(grads);
    });
    const names = new Set(profile.kernels.map((k) => k.name));
    expect(names.has('Multiply')).toBe(true);
    for (const k of ['Transpose', 'BatchMatMul', '_FusedMatMul']) expect(names.has(k), k).toBe(false);
    tf.dispose([A, S, R]);
  });
});
