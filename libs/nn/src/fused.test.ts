// The fused ops (fused.ts, wasm fast path) against the reference composition of tf ops in ops.ts,
// on the same backend and inputs: loss and every gradient within float32 tolerances.
import * as tf from '@tensorflow/tfjs-core';
import { expectClose } from '@lmsweep/algorithms';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { softmaxLayerLossSum } from './fused.ts';
import { matMul, softmaxCrossEntropySum } from './ops.ts';
import { createRng } from './random.ts';
import { fastExp } from './wasm-heap.ts';

const rng = createRng(11, 3);
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);

/** Loss and gradients of f in each input, as plain arrays. */
function lossAndGrads(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[]): { loss: number; grads: Float32Array[] } {
  const { value, grads } = tf.tidy(() => tf.valueAndGrads(f)(inputs));
  const out = { loss: value.dataSync()[0]!, grads: grads.map((g) => g.dataSync() as Float32Array) };
  tf.dispose([value, ...grads]);
  return out;
}

describe('fastExp', () => {
  it('equals Math.exp to 2e-8 relative on [−103, 88], 0 below', () => {
    let worst = 0;
    for (let x = -103; x <= 88; x += 0.0137) worst = Math.max(worst, Math.abs(fastExp(x) - Math.exp(x)) / Math.exp(x));
    expect(worst).toBeLessThan(2e-8);
    expect(fastExp(-104)).toBe(0);
    expect(fastExp(0)).toBe(1);
  });
});

describe.each(['wasm', 'cpu'] as const)('fused ops on %s', (backend) => {
  it('selects the backend', async () => {
    expect((await selectBackend(backend)).backend).toBe(backend);
  });

  it('softmaxLayerLossSum: loss and gradients in x, W, b equal softmaxCrossEntropySum(x·W + b) (float32: rtol 1e-5, atol 1e-6)', () => {
    const before = tf.memory().numTensors;
    const [n, h, V] = [24, 16, 300];
    const x = tf.tensor2d(randn(n * h, 2), [n, h]);
    const w = tf.tensor2d(randn(h * V, 1.5), [h, V]);
    const b = tf.tensor1d(randn(V, 4));
    const targets = Int32Array.from({ length: n }, (_, i) => (i * 37 + 5) % V);
    targets[3] = targets[4] = 7; // repeated targets
    const dy = 0.37; // a loss scale: the gradients carry it
    const fused = lossAndGrads((a, c, d) => tf.mul(softmaxLayerLossSum(a as tf.Tensor2D, c as tf.Tensor2D, d as tf.Tensor1D, targets), dy) as tf.Scalar, [x, w, b]);
    const ref = lossAndGrads(
      (a, c, d) => tf.mul(softmaxCrossEntropySum(tf.add(matMul(a as tf.Tensor2D, c as tf.Tensor2D), d) as tf.Tensor2D, targets), dy) as tf.Scalar,
      [x, w, b],
    );
    expectClose(fused.loss, ref.loss, { rtol: 1e-5 });
    fused.grads.forEach((g, k) => expectClose(g, ref.grads[k]!, { rtol: 1e-5, atol: 1e-6 }));
    // without a gradient tape: the value alone, nothing kept
    const value = tf.tidy(() => softmaxLayerLossSum(x, w, b, targets).dataSync()[0]!);
    expectClose(value * dy, ref.loss, { rtol: 1e-5 });
    expect(() => softmaxLayerLossSum(x, w, b, new Int32Array(n).fill(V))).toThrow(/outside the vocabulary/);
    tf.dispose([x, w, b]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
