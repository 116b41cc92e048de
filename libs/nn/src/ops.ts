// Differentiable ops whose tfjs gradients are missing or slow on the wasm backend.
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients.ts';
import { native } from './native.ts';
import { fillTensor, fillTensors, view } from './wasm-heap.ts';

type Args = Array<tf.Tensor | tf.GradSaveFunc>;

/**
 * Embedding lookup E:[V,d], ids:[n] → [n,d]. Its gradient is accumulated row by row in JS from
 * dy (the ids are on the CPU anyway): wasm has no UnsortedSegmentSum, which tf.gather's gradient
 * needs, and the cpu backend's loops over every segment.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  ensureGradients();
  const [vocab, dim] = table.shape;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < vocab)) throw new RangeError(`token id ${id} at ${i} outside the vocabulary 0..${vocab - 1}`);
  }
  const f = tf.customGrad((...args: Args) => {
    const e = args[0] as tf.Tensor2D;
    const idx = tf.tensor1d(ids, 'int32');
    const value = tf.gather(e, idx) as tf.Tensor2D;
    idx.dispose();
    return {
      value,
      // Written in place into the gradient's heap memory on wasm (fillTensor): no fresh [V, d] buffer per step.
      gradFunc: (dy: tf.Tensor) =>
        fillTensor<tf.Rank.R2>([vocab, dim], (acc) => {
          acc.fill(0);
          const g = view(dy);
          for (let i = 0; i < ids.length; i++) {
            const dst = ids[i]! * dim;
            const src = i * dim;
            for (let j = 0; j < dim; j++) acc[dst + j]! += g[src + j]!;
          }
        }),
    };
  });
  return f(table) as tf.Tensor2D;
}

/**
 * Matrix product a:[m,k] · b:[k,n] → [m,n] whose gradients transpose explicitly
 * (da = dy·transpose(b), db = transpose(a)·dy): wasm's matmul is fast only without transposed
 * operands, and tf.matMul's own gradient passes them transposed.
 *
 * gradFromLeft: db = (dyᵀ·a)ᵀ instead, so the incoming gradient dy never becomes a matmul's
 * right operand. For callers whose dy is a reshape of a buffer that is also a right operand in
 * another shape: tfjs-backend-wasm 4.22 caches its XNNPACK matmul operator by the right
 * operand's buffer, and one buffer under two shapes aborts the module (see phm.ts,
 * WASM_MATMUL_CACHE_TRAP). Costs two transposes instead of one.
 */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D, opts: { gradFromLeft?: boolean } = {}): tf.Tensor2D {
  ensureGradients();
  if (native()) return matMulNative(a, b);
  const f = tf.customGrad((...args: Args) => {
    const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([x, w]);
    return {
      value: tf.matMul(x, w),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        const d = dy as tf.Tensor2D;
        return tf.tidy(() => [tf.matMul(d, tf.transpose(sw)), opts.gradFromLeft ? tf.transpose(tf.matMul(tf.transpose(d), sx)) : tf.matMul(tf.transpose(sx), d)]);
      },
    };
  });
  return f(a, b) as tf.Tensor2D;
}

/**
 * matMul on the native kernels: the product and both gradients in the addon, transposes folded
 * into its packing (no operator cache, so gradFromLeft's trap does not arise and it is not needed).
 */
function matMulNative(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const nk = native()!;
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (k !== k2) throw new Error(`matMul: a [${a.shape}] and b [${b.shape}] do not fit`);
  const f = tf.customGrad((...args: Args) => {
    const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([x, w]);
    const value = fillTensor<tf.Rank.R2>([m, n], (out) => nk.sgemm(false, false, m, n, k, 1, view(x), k, view(w), n, 0, out, n));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        return fillTensors([[m, k], [k, n]], ([da, db]) => {
          const d = view(dy);
          nk.sgemm(false, true, m, k, n, 1, d, n, view(sw), n, 0, da!, k); // dy·wᵀ
          nk.sgemm(true, false, k, n, m, 1, view(sx), k, d, n, 0, db!, n); // xᵀ·dy
        });
      },
    };
  });
  return f(a, b) as tf.Tensor2D;
}

/**
 * x:[m,k] · W:[k,n] + b:[n] → [m,n], differentiable in all three. On the native kernels one
 * product onto rows of b, its gradients dx = dy·Wᵀ, dW = xᵀ·dy and db = 1ᵀ·dy (the column sums
 * as a product too); elsewhere matMul and tf.add.
 */
export function matMulBias(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  ensureGradients();
  const nk = native();
  if (!nk) return tf.add(matMul(x, w), b) as tf.Tensor2D;
  const [m, k] = x.shape;
  const [k2, n] = w.shape;
  if (k !== k2 || b.shape[0] !== n) throw new Error(`matMulBias: x [${x.shape}], W [${w.shape}], b [${b.shape}] do not fit`);
  const ones = onesOf(m);
  const f = tf.customGrad((...args: Args) => {
    const [xs, ws, bs, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([xs, ws]);
    const value = fillTensor<tf.Rank.R2>([m, n], (out) => {
      const bias = view(bs);
      for (let i = 0; i < m; i++) out.set(bias, i * n);
      nk.sgemm(false, false, m, n, k, 1, view(xs), k, view(ws), n, 1, out, n);
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        return fillTensors([[m, k], [k, n], [n]], ([dx, dw, db]) => {
          const d = view(dy);
          nk.sgemm(false, true, m, k, n, 1, d, n, view(sw), n, 0, dx!, k); // dy·Wᵀ
          nk.sgemm(true, false, k, n, m, 1, view(sx), k, d, n, 0, dw!, n); // xᵀ·dy
          nk.sgemm(false, false, 1, n, m, 1, ones, m, d, n, 0, db!, n); // 1ᵀ·dy
        });
      },
    };
  });
  return f(x, w, b) as tf.Tensor2D;
}

let ones = new Float32Array(0);
/** A row of m ones (kept between calls, grown as needed). */
function onesOf(m: number): Float32Array {
  if (ones.length < m) ones = new Float32Array(m).fill(1);
  return ones.subarray(0, m);
}

/**
 * Summed softmax cross-entropy: logits:[n,V], targets:[n] → scalar Σᵢ −log softmax(logitsᵢ)[targetᵢ].
 * One exp pass: the forward keeps e = exp(z − max) and its row sums s; the gradient is
 * dy·(e/s − onehot), the onehot part scattered as floats (a float32 tf.oneHot writes integer
 * bit patterns on wasm).
 */
export function softmaxCrossEntropySum(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  ensureGradients();
  const [n, vocab] = logits.shape;
  if (targets.length !== n) throw new Error(`softmaxCrossEntropySum: ${n} rows of logits but ${targets.length} targets`);
  const flat = new Int32Array(n);
  const pairs = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const y = targets[i]!;
    if (!(y >= 0 && y < vocab)) throw new RangeError(`target ${y} at ${i} outside the vocabulary 0..${vocab - 1}`);
    flat[i] = i * vocab + y;
    pairs[2 * i] = i;
    pairs[2 * i + 1] = y;
  }
  const f = tf.customGrad((...args: Args) => {
    const [z, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const mx = tf.max(z, 1, true);
    const e = tf.exp(tf.sub(z, mx));
    const s = tf.sum(e, 1, true);
    save([e, s]);
    const picked = tf.gather(tf.reshape(z, [n * vocab]), tf.tensor1d(flat, 'int32'));
    // per row: log Σ exp(z − max) + max − z[target]
    const value = tf.sum(tf.sub(tf.reshape(tf.add(tf.log(s), mx), [n]), picked)) as tf.Scalar;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [se, ss] = saved as [tf.Tensor2D, tf.Tensor2D];
          const probsTimesDy = tf.mul(se, tf.div(dy, ss));
          const atTargets = tf.scatterND(tf.tensor2d(pairs, [n, 2], 'int32'), tf.mul(tf.ones([n]), dy), [n, vocab]);
          return tf.sub(probsTimesDy, atTargets);
        }),
    };
  });
  return f(logits) as tf.Scalar;
}

/**
 * x:[n·r, c] → n tensors [r, c] (row blocks), through one download and n small uploads: the
 * wasm backend's Slice (and so split/unstack) copies its whole input on every call, O(n²).
 * Not differentiable: for use inside custom gradients.
 */
export function rowBlocks(x: tf.Tensor2D, n: number): tf.Tensor2D[] {
  const [rows, cols] = x.shape;
  if (rows % n !== 0) throw new Error(`rowBlocks: ${rows} rows do not split into ${n} blocks`);
  const r = rows / n;
  const data = x.dataSync() as Float32Array;
  return Array.from({ length: n }, (_, i) => tf.tensor2d(data.subarray(i * r * cols, (i + 1) * r * cols), [r, cols]));
}

/** Row blocks of x: rowBlocks on wasm, tf.split elsewhere (where slicing is cheap and a download is not). */
function timeBlocks(x: tf.Tensor2D, n: number): tf.Tensor2D[] {
  return tf.getBackend() === 'wasm' ? rowBlocks(x, n) : (tf.split(x, n, 0) as tf.Tensor2D[]);
}

/**
 * A whole LSTM layer over T steps, with a hand-written backward pass (one tape node instead of
 * ~25 per step; the recurrent weight gradient as one matmul over all steps).
 *
 * xProj:[T·B, 4h] (input projections plus bias, time-major, gate order i, f, o, g), wh:[h, 4h],
 * h0, c0:[B, h] (constants: no gradient flows into the initial state) →
 * [(T+1)·B, h]: the T outputs h₁…h_T followed by the final cell state c_T (for the next window;
 * its gradient is ignored).
 *
 *   gates = xProj_t + h_{t−1}·Wh;  i, f, o = σ(·);  g = tanh(·)
 *   c_t = f⊙c_{t−1} + i⊙g;  h_t = o⊙tanh(c_t)
 */
export function lstmSequence(xProj: tf.Tensor2D, wh: tf.Tensor2D, h0: tf.Tensor2D, c0: tf.Tensor2D): tf.Tensor2D {
  ensureGradients();
  const [B, h] = h0.shape;
  const T = xProj.shape[0] / B;
  if (!Number.isInteger(T) || T < 1 || xProj.shape[1] !== 4 * h || wh.shape[0] !== h || wh.shape[1] !== 4 * h) {
    throw new Error(`lstmSequence: xProj [${xProj.shape}], Wh [${wh.shape}], state [${h0.shape}] do not fit`);
  }
  if (native()) return lstmSequenceNative(xProj, wh, h0, c0, T);
  const f = tf.customGrad((...args: Args) => {
    const [xp, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const steps = timeBlocks(xp, T);
    // per step: input, forget and output gates, candidate g, cell and hidden state, each [B, h]
    const seq: Record<'i' | 'f' | 'o' | 'g' | 'c' | 'h', tf.Tensor2D[]> = { i: [], f: [], o: [], g: [], c: [], h: [] };
    let hPrev = h0;
    let cPrev = c0;
    for (let t = 0; t < T; t++) {
      const gates = tf.add(steps[t]!, tf.matMul(hPrev, w)) as tf.Tensor2D;
      const [i, fg, o] = tf.split(tf.sigmoid(tf.slice(gates, [0, 0], [B, 3 * h])), 3, 1) as tf.Tensor2D[];
      const g = tf.tanh(tf.slice(gates, [0, 3 * h], [B, h]));
      cPrev = tf.add(tf.mul(fg!, cPrev), tf.mul(i!, g)) as tf.Tensor2D;
      hPrev = tf.mul(o!, tf.tanh(cPrev)) as tf.Tensor2D;
      seq.i.push(i!);
      seq.f.push(fg!);
      seq.o.push(o!);
      seq.g.push(g);
      seq.c.push(cPrev);
      seq.h.push(hPrev);
    }
    // Saved only while a gradient tape records (a no-op in evaluation).
    save([w, ...seq.i, ...seq.f, ...seq.o, ...seq.g, ...seq.c, ...seq.h]);
    return {
      value: tf.concat([...seq.h, cPrev], 0),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const sw = saved[0] as tf.Tensor2D;
          const part = (k: number) => saved.slice(1 + k * T, 1 + (k + 1) * T) as tf.Tensor2D[];
          const [is, fs, os, gs, cs, hs] = [0, 1, 2, 3, 4, 5].map(part) as [tf.Tensor2D[], tf.Tensor2D[], tf.Tensor2D[], tf.Tensor2D[], tf.Tensor2D[], tf.Tensor2D[]];
          // Everything that does not depend on the backward recurrence, for all steps at once: [T·B, ·]
          const [i, o, g, c] = [tf.concat(is, 0), tf.concat(os, 0), tf.concat(gs, 0), tf.concat(cs, 0)];
          const cPrevAll = tf.concat([c0, ...cs.slice(0, T - 1)], 0);
          const hPrevAll = tf.concat([h0, ...hs.slice(0, T - 1)], 0);
          const sig = tf.concat([i, tf.concat(fs, 0), o], 1);
          const tc = tf.tanh(c);
          // d(pre-activation) = [dc·g·σ'(i), dc·c_{t−1}·σ'(f), dh·tanh(c)·σ'(o), dc·i·tanh'(g)] = [dc, dc, dh, dc] ⊙ k
          const k = tf.mul(tf.concat([g, cPrevAll, tc, i], 1), tf.concat([tf.mul(sig, tf.sub(1, sig)), tf.sub(1, tf.square(g))], 1));
          const oDtc = tf.mul(o, tf.sub(1, tf.square(tc))); // ∂h/∂c given dh
          const [dOut, ks, oDtcs] = [timeBlocks(dy as tf.Tensor2D, T + 1), timeBlocks(k as tf.Tensor2D, T), timeBlocks(oDtc as tf.Tensor2D, T)];
          const whT = tf.transpose(sw) as tf.Tensor2D;
          const dGates: tf.Tensor2D[] = new Array(T);
          let dhNext: tf.Tensor2D | undefined;
          let dcNext: tf.Tensor2D | undefined;
          for (let t = T - 1; t >= 0; t--) {
            const dh = (dhNext ? tf.add(dOut[t]!, dhNext) : dOut[t]!) as tf.Tensor2D;
            const dcLocal = tf.mul(dh, oDtcs[t]!) as tf.Tensor2D;
            const dc = (dcNext ? tf.add(dcLocal, dcNext) : dcLocal) as tf.Tensor2D;
            const dg = tf.mul(tf.concat([dc, dc, dh, dc], 1), ks[t]!) as tf.Tensor2D;
            dGates[t] = dg;
            if (t > 0) {
              dhNext = tf.matMul(dg, whT) as tf.Tensor2D;
              dcNext = tf.mul(dc, fs[t]!) as tf.Tensor2D;
            }
          }
          const dXProj = tf.concat(dGates, 0);
          const dWh = tf.matMul(tf.transpose(hPrevAll), dXProj);
          return [dXProj, dWh];
        }),
    };
  });
  return f(xProj, wh) as tf.Tensor2D;
}

/**
 * lstmSequence on the native kernels: the T steps (recurrent product and cell) forward, and the
 * backward recurrence with dWh as one product, each one addon call over heap memory. The
 * activated gates and the cell states are kept from the forward for the backward.
 */
function lstmSequenceNative(xProj: tf.Tensor2D, wh: tf.Tensor2D, h0: tf.Tensor2D, c0: tf.Tensor2D, T: number): tf.Tensor2D {
  const nk = native()!;
  const [B, h] = h0.shape;
  const f = tf.customGrad((...args: Args) => {
    const [xp, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const [gates, cells, out] = fillTensors([[T * B, 4 * h], [T * B, h], [(T + 1) * B, h]], ([g, c, o]) => {
      nk.lstmForward(T, B, h, view(xp), view(w), view(h0), view(c0), g!, c!, o!);
    }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    save([w, gates!, cells!, out!]);
    return {
      value: out!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sw, sg, sc, so] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        return fillTensors([[T * B, 4 * h], [h, 4 * h]], ([dx, dw]) => {
          nk.lstmBackward(T, B, h, view(sw), view(h0), view(c0), view(sg), view(sc), view(so), view(dy), dx!, dw!);
        });
      },
    };
  });
  return f(xProj, wh) as tf.Tensor2D;
}
