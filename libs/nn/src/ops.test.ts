import * as tf from '@tensorflow/tfjs-core';
import { expectClose } from '@lmsweep/algorithms';
import { expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { nativeKernelsStatus } from './native.ts';
import { describeBackends } from './testing.ts';
import { LstmLm } from './lstm-lm.ts';
import { embeddingLookup, matMul, matMulBias, softmaxCrossEntropySum } from './ops.ts';
import { createRng } from './random.ts';
import { finiteDifferences } from './testing.ts';

const rng = createRng(42, 7);
const randn = (n: number, scale = 1) => Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);

// wasm with the native kernels (skipped where they were not built), wasm alone, and the pure-JS backend
describeBackends('ops', (backend, native) => {
  it('selects the backend', async () => {
    expect((await selectBackend(backend, { native })).backend).toBe(backend);
    expect(nativeKernelsStatus().available).toBe(native && backend === 'wasm');
  });

  it('matMulBias: x·W + b and its three gradients against a float64 reference', () => {
    const before = tf.memory().numTensors;
    const [m, k, n] = [9, 5, 7];
    const [xa, wa, ba, ra] = [randn(m * k, 2), randn(k * n), randn(n, 3), randn(m * n)];
    const [x, w, b] = [tf.tensor2d(xa, [m, k]), tf.tensor2d(wa, [k, n]), tf.tensor1d(ba)];
    const R = tf.tensor2d(ra, [m, n]);
    const f = (a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(matMulBias(a as tf.Tensor2D, c as tf.Tensor2D, e as tf.Tensor1D), R)) as tf.Scalar;
    const { value, grads } = tf.valueAndGrads(f)([x, w, b]);
    // references in float64: y = xW + b, dx = R·Wᵀ, dW = xᵀ·R, db = column sums of R
    const X = Float64Array.from(x.dataSync()), W = Float64Array.from(w.dataSync()), Bv = Float64Array.from(b.dataSync()), Rv = Float64Array.from(R.dataSync());
    let loss = 0;
    const [dx, dw, db] = [new Float64Array(m * k), new Float64Array(k * n), new Float64Array(n)];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let y = Bv[j]!;
        for (let l = 0; l < k; l++) {
          y += X[i * k + l]! * W[l * n + j]!;
          dx[i * k + l]! += Rv[i * n + j]! * W[l * n + j]!;
          dw[l * n + j]! += X[i * k + l]! * Rv[i * n + j]!;
        }
        loss += y * Rv[i * n + j]!;
        db[j]! += Rv[i * n + j]!;
      }
    expectClose(value.dataSync()[0]!, loss, { rtol: 1e-5, atol: 1e-5 });
    [dx, dw, db].forEach((ref, i) => expectClose(grads[i]!.dataSync(), ref, { rtol: 1e-5, atol: 1e-5 }));
    tf.dispose([x, w, b, R, value, ...grads]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('embeddingLookup: gathers rows and accumulates the gradient of repeated ids', () => {
    const before = tf.memory().numTensors;
    const [V, d] = [7, 3];
    const E = tf.tensor2d(randn(V * d), [V, d]);
    const ids = new Int32Array([0, 3, 3, 6, 1, 3]);
    const R = tf.tensor2d(randn(ids.length * d), [ids.length, d]);
    const rows = embeddingLookup(E, ids);
    const e = E.dataSync();
    expectClose(rows.dataSync(), Array.from(ids).flatMap((id) => Array.from(e.subarray(id * d, id * d + d))));
    const g = tf.grad((x) => tf.sum(tf.mul(embeddingLookup(x as tf.Tensor2D, ids), R)))(E);
    // Dense reference: dE = onehot(ids)ᵀ · R
    const r = R.dataSync();
    const ref = new Float64Array(V * d);
    ids.forEach((id, i) => {
      for (let j = 0; j < d; j++) ref[id * d + j]! += r[i * d + j]!;
    });
    expectClose(g.dataSync(), ref, { rtol: 1e-6, atol: 1e-6 });
    expect(() => embeddingLookup(E, new Int32Array([7]))).toThrow(/outside the vocabulary/);
    tf.dispose([E, R, rows, g]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matMul: value and explicitly transposed gradients match dA = R·Bᵀ, dB = Aᵀ·R', () => {
    const before = tf.memory().numTensors;
    const [m, k, n] = [4, 5, 3];
    const a = randn(m * k);
    const b = randn(k * n);
    const r = randn(m * n);
    const A = tf.tensor2d(a, [m, k]);
    const B = tf.tensor2d(b, [k, n]);
    const R = tf.tensor2d(r, [m, n]);
    const [dA, dB] = tf.grads((x, y) => tf.sum(tf.mul(matMul(x as tf.Tensor2D, y as tf.Tensor2D), R)))([A, B]);
    const refA = new Float64Array(m * k);
    const refB = new Float64Array(k * n);
    for (let i = 0; i < m; i++)
      for (let p = 0; p < k; p++)
        for (let j = 0; j < n; j++) {
          refA[i * k + p]! += r[i * n + j]! * b[p * n + j]!;
          refB[p * n + j]! += a[i * k + p]! * r[i * n + j]!;
        }
    tf.tidy(() => expectClose(matMul(A, B).dataSync(), tf.matMul(A, B).dataSync(), { rtol: 1e-6, atol: 1e-6 }));
    expectClose(dA!.dataSync(), refA, { rtol: 1e-5, atol: 1e-5 });
    expectClose(dB!.dataSync(), refB, { rtol: 1e-5, atol: 1e-5 });
    tf.dispose([A, B, R, dA!, dB!]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('softmaxCrossEntropySum: value and gradient match a float64 reference and finite differences', () => {
    const before = tf.memory().numTensors;
    const [n, V] = [5, 6];
    const z = randn(n * V, 3);
    const targets = new Int32Array([0, 5, 2, 2, 4]);
    const z0 = tf.tensor2d(z, [n, V]);
    const Z = tf.variable(z0);
    z0.dispose();
    let refLoss = 0;
    const refGrad = new Float64Array(n * V);
    for (let i = 0; i < n; i++) {
      const row = z.slice(i * V, i * V + V);
      const mx = Math.max(...row);
      const s = row.reduce((acc, x) => acc + Math.exp(x - mx), 0);
      refLoss += Math.log(s) + mx - row[targets[i]!]!;
      for (let j = 0; j < V; j++) refGrad[i * V + j] = 2.5 * (Math.exp(row[j]! - mx) / s - (j === targets[i] ? 1 : 0));
    }
    const loss = () => tf.tidy(() => softmaxCrossEntropySum(Z as tf.Tensor as tf.Tensor2D, targets).dataSync()[0]!);
    expectClose(loss(), refLoss, { rtol: 1e-5 });
    const { value, grads } = tf.variableGrads(() => tf.mul(softmaxCrossEntropySum(Z as tf.Tensor as tf.Tensor2D, targets), 2.5) as tf.Scalar, [Z]);
    expectClose(grads[Z.name]!.dataSync(), refGrad, { rtol: 1e-5, atol: 1e-6 });
    const idx = [0, 5, 7, 11, 14, 29];
    expectClose(
      finiteDifferences(loss, Z, idx, 1e-2),
      idx.map((i) => refGrad[i]! / 2.5),
      { rtol: 1e-2, atol: 1e-3 },
    );
    tf.dispose([value, Z, grads[Z.name]!]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    [3, new Int32Array([0, 1, 2, 3, 4, 0]), new Int32Array([1, 2, 3, 4, 0, 1])],
    [1, new Int32Array([2, 4]), new Int32Array([3, 0])],
  ])('LSTM LM: every parameter gradient matches finite differences (unroll %d)', (T, x, y) => {
    const before = tf.memory().numTensors;
    const model = new LstmLm(5, { embedding: 3, hidden: 4, layers: 2, dropout: 0, initScale: 0.5 }, 3);
    const B = 2;
    expect(x.length).toBe(T * B);
    // a non-zero carried-in state, as in truncated BPTT
    const state = { h: [0, 1].map(() => tf.fill([B, 4], 0.3) as tf.Tensor2D), c: [0, 1].map(() => tf.fill([B, 4], -0.2) as tf.Tensor2D) };
    const loss = () =>
      tf.tidy(() => {
        const r = model.forward(x, y, B, state);
        return r.lossSum.dataSync()[0]!;
      });
    const { value, grads } = tf.variableGrads(() => model.forward(x, y, B, state).lossSum, model.variables);
    for (const v of model.variables) {
      const g = grads[v.name]!.dataSync();
      const idx = [0, Math.floor(v.size / 2), v.size - 1];
      expectClose(finiteDifferences(loss, v, idx, 1e-2), idx.map((i) => g[i]!), { rtol: 1e-2, atol: 2e-3 });
    }
    tf.dispose([value, ...Object.values(grads), ...state.h, ...state.c]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
