// Fused training ops for the CPU (wasm) path: each is one tape node whose element-wise work runs
// as JS loops over the tensors' heap memory (wasm-heap.ts), leaving only the matrix products to
// the backend, in the shapes its XNNPACK path runs fastest (no transposed operand, the large
// dimension on the left). Elsewhere (native TensorFlow, the pure-JS backend) each falls back to
// the reference composition of tf ops in ops.ts. ops.test.ts / fused.test.ts check the two agree.
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients.ts';
import { matMul, softmaxCrossEntropySum } from './ops.ts';
import { native } from './native.ts';
import { fastExp, fillTensor, fillTensors, heapAccess, view } from './wasm-heap.ts';

type Args = Array<tf.Tensor | tf.GradSaveFunc>;

function checkTargets(targets: Int32Array, n: number, vocab: number, what: string): void {
  if (targets.length !== n) throw new Error(`${what}: ${n} rows but ${targets.length} targets`);
  for (let i = 0; i < n; i++) {
    const y = targets[i]!;
    if (!(y >= 0 && y < vocab)) throw new RangeError(`target ${y} at ${i} outside the vocabulary 0..${vocab - 1}`);
  }
}

/**
 * Dense softmax layer and summed cross-entropy in one op:
 * x:[n,h], W:[h,V], b:[V], targets:[n] → scalar Σᵢ −log softmax(xᵢ·W + b)[targetᵢ],
 * differentiable in x, W and b. Equal to softmaxCrossEntropySum(matMul(x, W) + b, targets).
 *
 * wasm: the logits are computed transposed, zᵀ = Wᵀ·xᵀ:[V,n] (XNNPACK is ≈2× faster with the
 * vocabulary on the left than on the right); bias, row maxima, exp and sums run in JS over zᵀ in
 * place, which then holds p = exp(z − max) for the backward pass, which turns it, again in place,
 * into dzᵀ = dy·(softmax − onehot)ᵀ and forms dWᵀ = dzᵀ·x, dxᵀ = W·dzᵀ and db = Σ rows of dzᵀ.
 */
export function softmaxLayerLossSum(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, targets: Int32Array): tf.Scalar {
  ensureGradients();
  const [n, h] = x.shape;
  const V = w.shape[1];
  if (w.shape[0] !== h || b.shape[0] !== V) throw new Error(`softmaxLayerLossSum: x [${x.shape}], W [${w.shape}], b [${b.shape}] do not fit`);
  checkTargets(targets, n, V, 'softmaxLayerLossSum');
  if (!heapAccess()) return softmaxCrossEntropySum(tf.add(matMul(x, w), b) as tf.Tensor2D, targets);
  if (native()) return softmaxLayerLossSumNative(x, w, b, targets);
  // Per-row max and Σ exp(z − max), kept from the forward pass for the backward one.
  const rowMax = new Float64Array(n);
  const rowSum = new Float64Array(n);
  const f = tf.customGrad((...args: Args) => {
    const [xs, ws, bs, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const zT = tf.matMul(tf.transpose(ws), tf.transpose(xs)) as tf.Tensor2D; // [V, n]
    const bias = view(bs).slice();
    const z = view(zT);
    rowMax.fill(-Infinity);
    for (let j = 0; j < V; j++) {
      const bj = bias[j]!;
      const o = j * n;
      for (let i = 0; i < n; i++) {
        const v = z[o + i]! + bj;
        z[o + i] = v;
        if (v > rowMax[i]!) rowMax[i] = v;
      }
    }
    let loss = 0;
    for (let i = 0; i < n; i++) loss -= z[targets[i]! * n + i]!;
    rowSum.fill(0);
    for (let j = 0; j < V; j++) {
      const o = j * n;
      for (let i = 0; i < n; i++) {
        const e = fastExp(z[o + i]! - rowMax[i]!);
        z[o + i] = e;
        rowSum[i]! += e;
      }
    }
    for (let i = 0; i < n; i++) loss += Math.log(rowSum[i]!) + rowMax[i]!;
    save([xs, ws, zT]);
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw, sz] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const g = dy.dataSync()[0]!;
        const scale = Float64Array.from(rowSum, (s) => g / s);
        const db = fillTensor<tf.Rank.R1>([V], (out) => {
          const p = view(sz); // p = exp(z − max) → dz = g·(p / s − onehot), in place
          for (let i = 0; i < n; i++) p[targets[i]! * n + i]! -= rowSum[i]!;
          for (let j = 0; j < V; j++) {
            const o = j * n;
            let acc = 0;
            for (let i = 0; i < n; i++) {
              const d = p[o + i]! * scale[i]!;
              p[o + i] = d;
              acc += d;
            }
            out[j] = acc;
          }
        });
        return tf.tidy(() => [tf.transpose(tf.matMul(sw, sz)), tf.transpose(tf.matMul(sz, sx)), db]);
      },
    };
  });
  return f(x, w, b) as tf.Scalar;
}

/**
 * softmaxLayerLossSum on the native kernels: z = x·W + b:[n,V] row-major, exp(z − max) kept in
 * place for the backward, which turns it into dz and forms dW = xᵀ·dz, dx = dz·Wᵀ and db (column
 * sums of dz), all in the addon on the tensors' heap memory.
 */
function softmaxLayerLossSumNative(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, targets: Int32Array): tf.Scalar {
  const nk = native()!;
  const [n, h] = x.shape;
  const V = w.shape[1];
  const rowSum = new Float64Array(n);
  const f = tf.customGrad((...args: Args) => {
    const [xs, ws, bs, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    let loss = 0;
    const p = fillTensor<tf.Rank.R2>([n, V], (out) => {
      loss = nk.softmaxXentForward(n, h, V, view(xs), view(ws), view(bs), targets, out, rowSum);
    });
    save([xs, ws, p]);
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw, sp] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const g = dy.dataSync()[0]!;
        return fillTensors([[n, h], [h, V], [V]], ([dx, dW, db]) => {
          nk.softmaxXentBackward(n, h, V, g, view(sx), view(sw), view(sp), targets, rowSum, dx!, dW!, db!);
        });
      },
    };
  });
  return f(x, w, b) as tf.Scalar;
}
