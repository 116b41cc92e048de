// The Transformer's hand-written ops (transformer-ops.ts) against compositions of tf ops whose
// gradients tfjs derives itself, on every CPU path, and the causal mask as a property.
import * as tf from '@tensorflow/tfjs-core';
import { expectClose } from '@lmsweep/algorithms';
import { expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { createRng } from './random.ts';
import { describeBackends } from './testing.ts';
import { causalAttention, gelu, LAYER_NORM_EPS, layerNorm } from './transformer-ops.ts';

const rng = createRng(5, 9);
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);

/** Σ f(inputs)⊙R for a fixed random R, and its gradient in each input, as plain arrays. */
function probe(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], r: Float32Array): { loss: number; grads: Float32Array[] } {
  const { value, grads } = tf.tidy(() => tf.valueAndGrads((...xs: tf.Tensor[]) => {
    const y = f(...xs);
    return tf.sum(tf.mul(y, tf.tensor(r, y.shape))) as tf.Scalar;
  })(inputs));
  const out = { loss: value.dataSync()[0]!, grads: grads.map((g) => g.dataSync() as Float32Array) };
  tf.dispose([value, ...grads]);
  return out;
}

// The references: the same functions written plainly in float64, differentiated by central
// differences (step 1e-6: truncation and rounding errors ≈ 1e-9, far below float32's).
type Ref = (xs: Float64Array[]) => Float64Array;

function refProbe(f: Ref, inputs: Float32Array[], r: Float32Array): { loss: number; grads: Float64Array[] } {
  const xs = inputs.map((x) => Float64Array.from(x));
  const loss = () => f(xs).reduce((a, y, i) => a + y * r[i]!, 0);
  const h = 1e-6;
  const grads = xs.map((x) =>
    Float64Array.from(x, (v, i) => {
      x[i] = v + h;
      const up = loss();
      x[i] = v - h;
      const down = loss();
      x[i] = v;
      return (up - down) / (2 * h);
    }),
  );
  return { loss: loss(), grads };
}

const refLayerNorm = (n: number, d: number): Ref => ([x, g, b]) => {
  const y = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = x!.subarray(i * d, (i + 1) * d);
    const mean = row.reduce((a, v) => a + v, 0) / d;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / d;
    for (let j = 0; j < d; j++) y[i * d + j] = ((row[j]! - mean) / Math.sqrt(variance + LAYER_NORM_EPS)) * g![j]! + b![j]!;
  }
  return y;
};

const refGelu: Ref = ([x]) => x!.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));

/** Row t·B + b, head h: softmax over s ≤ t of q·k/√dh, times v. */
const refAttention = (T: number, B: number, H: number, dh: number): Ref => ([q, k, v]) => {
  const d = H * dh;
  const out = new Float64Array(T * B * d);
  const at = (x: Float64Array, t: number, b: number, h: number, j: number) => x[(t * B + b) * d + h * dh + j]!;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++) {
        const z = Array.from({ length: t + 1 }, (_, s) => Array.from({ length: dh }, (_, j) => at(q!, t, b, h, j) * at(k!, s, b, h, j)).reduce((a, c) => a + c, 0) / Math.sqrt(dh));
        const max = Math.max(...z);
        const e = z.map((x) => Math.exp(x - max));
        const sum = e.reduce((a, c) => a + c, 0);
        for (let j = 0; j < dh; j++) out[(t * B + b) * d + h * dh + j] = e.reduce((a, w, s) => a + (w / sum) * at(v!, s, b, h, j), 0);
      }
  return out;
};

// Our ops read and write float32 and accumulate in double; the references are float64 throughout.
const TOL = { rtol: 1e-4, atol: 2e-5 };

describeBackends('transformer ops', (backend, native) => {
  it('selects the backend', async () => {
    expect((await selectBackend(backend, { native })).backend).toBe(backend);
  });

  it('layerNorm: value and gradients in x, γ, β equal a float64 reference (rtol 1e-4, atol 2e-5)', () => {
    const before = tf.memory().numTensors;
    const [n, d] = [13, 24];
    const x = tf.tensor2d(randn(n * d, 3), [n, d]);
    const g = tf.tensor1d(randn(d, 2));
    const b = tf.tensor1d(randn(d));
    const r = randn(n * d);
    const ours = probe((a, c, e) => layerNorm(a as tf.Tensor2D, c as tf.Tensor1D, e as tf.Tensor1D), [x, g, b], r);
    const ref = refProbe(refLayerNorm(n, d), [x, g, b].map((t) => t.dataSync() as Float32Array), r);
    expectClose(ours.loss, ref.loss, TOL);
    ours.grads.forEach((gr, i) => expectClose(gr, ref.grads[i]!, TOL));
    expect(() => layerNorm(x, tf.tensor1d(randn(d - 1)), b)).toThrow(/do not fit/);
    tf.dispose([x, g, b]);
    expect(tf.memory().numTensors).toBe(before + 1); // the tensor1d the refused call was given
  });

  it('gelu: value and gradient equal a float64 reference of the tanh form', () => {
    const x = tf.tensor2d(randn(7 * 33, 4), [7, 33]);
    const r = randn(7 * 33);
    const ours = probe((a) => gelu(a as tf.Tensor2D), [x], r);
    const ref = refProbe(refGelu, [x.dataSync() as Float32Array], r);
    expectClose(ours.loss, ref.loss, TOL);
    expectClose(ours.grads[0]!, ref.grads[0]!, TOL);
    x.dispose();
  });

  it('causalAttention: value and gradients in q, k, v equal a float64 reference, several heads and sequences', () => {
    const before = tf.memory().numTensors;
    const [T, B, H, dh] = [6, 3, 2, 4];
    const d = H * dh;
    const [q, k, v] = [0, 1, 2].map(() => tf.tensor2d(randn(T * B * d, 1.5), [T * B, d]));
    const r = randn(T * B * d);
    const ours = probe((a, c, e) => causalAttention(a as tf.Tensor2D, c as tf.Tensor2D, e as tf.Tensor2D, B, H), [q!, k!, v!], r);
    const ref = refProbe(refAttention(T, B, H, dh), [q!, k!, v!].map((t) => t.dataSync() as Float32Array), r);
    expectClose(ours.loss, ref.loss, TOL);
    ours.grads.forEach((gr, i) => expectClose(gr, ref.grads[i]!, TOL));
    expect(() => causalAttention(q!, k!, v!, 4, H)).toThrow(/do not fit/);
    expect(() => causalAttention(q!, k!, v!, B, 3)).toThrow(/do not fit/);
    tf.dispose([q!, k!, v!]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('causalAttention is causal: changing tokens after t leaves rows ≤ t alone and moves the later ones', () => {
    const [T, B, H, dh] = [5, 2, 2, 3];
    const d = H * dh;
    const data = [0, 1, 2].map(() => randn(T * B * d));
    const run = (ds: Float32Array[]) => tf.tidy(() => causalAttention(...(ds.map((x) => tf.tensor2d(x, [T * B, d])) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]), B, H).dataSync() as Float32Array);
    const base = run(data);
    const t0 = 2;
    // tokens t0+1… of every sequence get other keys, values and queries
    const changed = data.map((x) => x.map((val, i) => (Math.floor(i / (B * d)) > t0 ? val + 1 : val)));
    const moved = run(changed);
    const upTo = (t0 + 1) * B * d;
    expect(Array.from(moved.subarray(0, upTo))).toEqual(Array.from(base.subarray(0, upTo)));
    expect(Math.max(...Array.from(moved.subarray(upTo)).map((m, i) => Math.abs(m - base[upTo + i]!)))).toBeGreaterThan(1e-3);
  });
});
