// The fused ops (fused.ts, wasm fast path) against the reference composition of tf ops in ops.ts,
// on the same backend and inputs: loss and every gradient within float32 tolerances.
import * as tf from '@tensorflow/tfjs-core';
import { expectClose } from '@lmsweep/algorithms';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { LstmLm } from './lstm-lm.ts';
import { nativeKernelsBuilt, nativeKernelsStatus } from './native.ts';
import { describeBackends } from './testing.ts';
import { softmaxLayerLossSum } from './fused.ts';
import { lstmSequence, matMul, softmaxCrossEntropySum } from './ops.ts';
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

// wasm with the native kernels (skipped where they were not built), wasm alone, and the pure-JS backend
describeBackends('fused ops', (backend, native) => {
  it('selects the backend', async () => {
    expect((await selectBackend(backend, { native })).backend).toBe(backend);
    expect(nativeKernelsStatus().available).toBe(native && backend === 'wasm');
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

// The native kernels against the wasm path (JS loops and XNNPACK) they replace, on the same
// inputs in one process: the same numbers within float32 tolerances, for the LSTM sequence and
// for every gradient of a whole model.
describe.skipIf(!nativeKernelsBuilt())('native kernels against the wasm path', () => {
  afterAll(async () => {
    await selectBackend('wasm', { native: true });
  });

  /** f run with the native kernels, then without. */
  async function onBoth<T>(f: () => T): Promise<{ native: T; wasm: T }> {
    await selectBackend('wasm', { native: true });
    const native = f();
    await selectBackend('wasm', { native: false });
    const wasm = f();
    return { native, wasm };
  }

  it('lstmSequence: outputs and the gradients in xProj and Wh agree (rtol 1e-5, atol 1e-6)', async () => {
    const [T, B, h] = [7, 5, 12];
    const data = { xp: randn(T * B * 4 * h, 1.5), wh: randn(h * 4 * h, 0.4), h0: randn(B * h, 0.5), c0: randn(B * h, 0.5), dy: randn((T + 1) * B * h) };
    const run = () =>
      tf.tidy(() => {
        const [xp, wh] = [tf.tensor2d(data.xp, [T * B, 4 * h]), tf.tensor2d(data.wh, [h, 4 * h])];
        const [h0, c0] = [tf.tensor2d(data.h0, [B, h]), tf.tensor2d(data.c0, [B, h])];
        const dy = tf.tensor2d(data.dy, [(T + 1) * B, h]);
        const out = lstmSequence(xp, wh, h0, c0);
        const grads = tf.grads((a, b) => tf.sum(tf.mul(lstmSequence(a as tf.Tensor2D, b as tf.Tensor2D, h0, c0), dy)))([xp, wh]);
        return [out.dataSync().slice(), ...grads.map((g) => g.dataSync().slice())] as Float32Array[];
      });
    const before = tf.memory().numTensors;
    const { native, wasm } = await onBoth(run);
    native.forEach((a, i) => expectClose(a, wasm[i]!, { rtol: 1e-5, atol: 1e-6 }));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a 2-layer LSTM LM: loss and every parameter gradient agree (rtol 1e-4, atol 1e-6)', async () => {
    const [V, B, T] = [97, 4, 6];
    const x = Int32Array.from({ length: T * B }, (_, i) => (i * 13 + 1) % V);
    const y = Int32Array.from({ length: T * B }, (_, i) => (i * 7 + 3) % V);
    const run = () => {
      const model = new LstmLm(V, { embedding: 10, hidden: 12, layers: 2, dropout: 0, initScale: 0.3 }, 5);
      const state = model.zeroState(B);
      const { value, grads } = tf.variableGrads(() => model.forward(x, y, B, state).lossSum, model.variables);
      const out = [value.dataSync().slice(), ...model.variables.map((v) => grads[v.name]!.dataSync().slice())] as Float32Array[];
      tf.dispose([value, ...Object.values(grads), ...state.h, ...state.c]);
      model.dispose();
      return out;
    };
    const before = tf.memory().numTensors;
    const { native, wasm } = await onBoth(run);
    expectClose(native[0]!, wasm[0]!, { rtol: 1e-5 });
    native.slice(1).forEach((g, i) => expectClose(g, wasm[i + 1]!, { rtol: 1e-4, atol: 1e-6 }));
    expect(tf.memory().numTensors).toBe(before);
  });
});
