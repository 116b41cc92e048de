import * as tf from '@tensorflow/tfjs-core';
import { expectClose } from '@lmsweep/algorithms';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { LowRankDense, lowRankMatMul, lowRankParamCount } from './low-rank-dense.ts';
import { createRng } from './random.ts';

// float32 against float64 references, O(1) values, ≤ 12-term sums: rtol 1e-4, atol 1e-5.
const F32 = { rtol: 1e-4, atol: 1e-5 };
const rng = createRng(9, 1);
const uniform = (n: number) => Float64Array.from({ length: n }, () => rng.next() * 2 - 1);

function mm(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let t = 0; t < k; t++) for (let j = 0; j < n; j++) out[i * n + j]! += a[i * k + t]! * b[t * n + j]!;
  return out;
}
const tr = (a: ArrayLike<number>, m: number, n: number) => Float64Array.from({ length: m * n }, (_, i) => a[(i % m) * n + Math.floor(i / m)]!);

describe.each(['wasm', 'cpu'] as const)('low-rank dense on %s', (backend) => {
  it('computes x·U·V with exact gradients and no leaks', async () => {
    await selectBackend(backend);
    const [B, d, k, r] = [5, 12, 10, 3];
    const [x, u, v, g] = [uniform(B * d), uniform(d * r), uniform(r * k), uniform(B * k)];
    const [X, U, V, G] = [tf.tensor2d(Float32Array.from(x), [B, d]), tf.tensor2d(Float32Array.from(u), [d, r]), tf.tensor2d(Float32Array.from(v), [r, k]), tf.tensor2d(Float32Array.from(g), [B, k])];
    const before = tf.memory().numTensors;
    const xu = mm(x, u, B, d, r);
    tf.tidy(() => expectClose(lowRankMatMul(X, U, V).dataSync(), mm(xu, v, B, r, k), F32));
    // loss Σ (x·U·V)⊙G: dV = (xU)ᵀG, dU = xᵀ(G·Vᵀ), dx = G·Vᵀ·Uᵀ
    const gvt = mm(g, tr(v, r, k), B, k, r);
    const grads = tf.grads((a, b, c) => tf.sum(tf.mul(lowRankMatMul(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D), G)))([X, U, V]);
    expectClose(grads[0]!.dataSync(), mm(gvt, tr(u, d, r), B, r, d), F32);
    expectClose(grads[1]!.dataSync(), mm(tr(x, B, d), gvt, d, B, r), F32);
    expectClose(grads[2]!.dataSync(), mm(tr(xu, B, r), g, r, B, k), F32);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([X, U, V, G]);
  });

  it('counts parameters exactly', () => {
    const before = tf.memory().numTensors;
    for (const bias of [true, false]) {
      const layer = new LowRankDense({ inputSize: 200, outputSize: 800, rank: 10, rng, bias, name: `lr-${backend}-${bias}` });
      expect(layer.variables.reduce((a, v) => a + v.size, 0)).toBe(layer.paramCount());
      expect(layer.paramCount()).toBe(10 * (200 + 800) + (bias ? 800 : 0));
      const x = tf.ones([2, 200]) as tf.Tensor2D;
      const y = layer.apply(x);
      expect(y.shape).toEqual([2, 800]);
      tf.dispose([x, y]);
      layer.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(lowRankParamCount(6, 4, 2, false)).toBe(20);
    expect(() => lowRankParamCount(6, 4, 0)).toThrow(/rank=0/);
  });
});
