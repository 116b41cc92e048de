// The factorized embedding and block softmax (factorized.ts) on the native kernels: every product
// an addon sgemm over the tensors' wasm-heap memory (sub-blocks addressed by offset and leading
// dimension, so no block is ever copied out), the softmax rows and their gradient in the addon,
// gathers and scatters of a few hundred rows in JS. One tape node per layer, like the wasm path.
import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from '@lmsweep/native';
import { fillTensor, fillTensors, view } from './wasm-heap.ts';

type Args = Array<tf.Tensor | tf.GradSaveFunc>;

/**
 * The block softmax's summed cross-entropy on the native kernels. x:[n, D]; per block p
 * vt[p]:[D, r_p] and ut[p]:[r_p, m_p]; b:[N] and targets:[n] in block order (column of the
 * word in the concatenated logits) → Σᵢ −log softmax(zᵢ)[tᵢ], zᵢ = [xᵢ·Vt₀·Ut₀ | xᵢ·Vt₁·Ut₁ | …] + b.
 * Differentiable in x, every Vtₚ and Utₚ, and b.
 *
 * Forward: H = x·[Vt₀ | Vt₁ | …]:[n, R] (R = Σ r_p, one product), Z[:, block p] = H[:, p]·Utₚ
 * written in place into Z:[n, N] (leading dimension N), then the softmax rows. Backward: Z turns
 * into dz in place (and db), then per block dUtₚ = Hₚᵀ·dzₚ and dHₚ = dzₚ·Utₚᵀ, and for all
 * blocks at once dVt = xᵀ·dH, dx = dH·[Vt₀ | …]ᵀ.
 */
export function blockSoftmaxLossSumNative(nk: NativeKernels, x: tf.Tensor2D, vt: tf.Tensor2D[], ut: tf.Tensor2D[], b: tf.Tensor1D, targets: Int32Array): tf.Scalar {
  const [n, D] = x.shape;
  const P = vt.length;
  const ranks = vt.map((v) => v.shape[1]);
  const sizes = ut.map((u) => u.shape[1]);
  const N = b.shape[0];
  const rankAt = offsets(ranks);
  const colAt = offsets(sizes);
  const R = rankAt[P]!;
  if (colAt[P] !== N || ut.some((u, p) => u.shape[0] !== ranks[p]) || vt.some((v) => v.shape[0] !== D)) {
    throw new Error(`block softmax: x [${x.shape}], Vt [${vt.map((v) => `[${v.shape}]`)}], Ut [${ut.map((u) => `[${u.shape}]`)}], b [${b.shape}] do not fit`);
  }
  const rowSum = new Float64Array(n);
  const f = tf.customGrad((...args: Args) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const ts = args.slice(0, -1) as tf.Tensor[];
    const [xs, bs] = [ts[0] as tf.Tensor2D, ts[1 + 2 * P] as tf.Tensor1D];
    const vts = ts.slice(1, 1 + P) as tf.Tensor2D[];
    const uts = ts.slice(1 + P, 1 + 2 * P) as tf.Tensor2D[];
    // [Vt₀ | Vt₁ | …]:[D, R] (JS memory: the addon takes any Float32Array)
    const vtAll = new Float32Array(D * R);
    vts.forEach((v, p) => {
      const src = view(v);
      const r = ranks[p]!;
      for (let d = 0; d < D; d++) vtAll.set(src.subarray(d * r, (d + 1) * r), d * R + rankAt[p]!);
    });
    let loss = 0;
    const [z, h] = fillTensors([[n, N], [n, R]], ([zo, ho]) => {
      nk.sgemm(false, false, n, R, D, 1, view(xs), D, vtAll, R, 0, ho!, R);
      for (let p = 0; p < P; p++) nk.sgemm(false, false, n, sizes[p]!, ranks[p]!, 1, ho!.subarray(rankAt[p]!), R, view(uts[p]!), sizes[p]!, 0, zo!.subarray(colAt[p]!), N);
      loss = nk.softmaxXentRows(n, N, zo!, view(bs), targets, rowSum);
    }) as [tf.Tensor2D, tf.Tensor2D];
    save([xs, z, h, ...uts]);
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const g = dy.dataSync()[0]!;
        const [sx, sz, sh] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const sut = saved.slice(3) as tf.Tensor2D[];
        const dh = new Float32Array(n * R);
        const dvtAll = new Float32Array(D * R);
        // gradients in the order of the inputs: x, Vt…, Ut…, b
        const shapes = [[n, D], ...vt.map((v) => [...v.shape]), ...ut.map((u) => [...u.shape]), [N]];
        return fillTensors(shapes, (outs) => {
          const [dx, db] = [outs[0]!, outs[1 + 2 * P]!];
          const [zv, hv] = [view(sz), view(sh)];
          nk.softmaxXentRowsBackward(n, N, g, zv, targets, rowSum, db);
          for (let p = 0; p < P; p++) {
            const [r, m] = [ranks[p]!, sizes[p]!];
            const [dzp, hp] = [zv.subarray(colAt[p]!), hv.subarray(rankAt[p]!)];
            nk.sgemm(true, false, r, m, n, 1, hp, R, dzp, N, 0, outs[1 + P + p]!, m); // dUtₚ = Hₚᵀ·dzₚ
            nk.sgemm(false, true, n, r, m, 1, dzp, N, view(sut[p]!), m, 0, dh.subarray(rankAt[p]!), R); // dHₚ = dzₚ·Utₚᵀ
          }
          nk.sgemm(true, false, D, R, n, 1, view(sx), D, dh, R, 0, dvtAll, R); // dVt = xᵀ·dH
          nk.sgemm(false, true, n, D, R, 1, dh, R, vtAll, R, 0, dx, D); // dx = dH·Vtᵀ
          for (let p = 0; p < P; p++) {
            const [r, out] = [ranks[p]!, outs[1 + p]!];
            for (let d = 0; d < D; d++) out.set(dvtAll.subarray(d * R + rankAt[p]!, d * R + rankAt[p]! + r), d * r);
          }
        });
      },
    };
  });
  return f(x, ...vt, ...ut, b) as tf.Scalar;
}

/**
 * The factorized embedding's lookup on the native kernels: ids grouped by block (blocks[k] the
 * block, rows[k] its rows of Uₚ for the tokens at positions[k], ascending) → [n, D] with token i's
 * row Uₚ[row]·Vₚ. u[p]:[m_p, r_p], v[p]:[r_p, D]. Differentiable in every Uₚ and Vₚ (zeros for
 * blocks no id falls in): dVₚ = Ugₚᵀ·dyₚ, dUₚ = scatter-add of dyₚ·Vₚᵀ over the rows asked for.
 */
export function factorizedLookupNative(nk: NativeKernels, u: tf.Tensor2D[], v: tf.Tensor2D[], n: number, blocks: number[], rows: Int32Array[], positions: Int32Array[]): tf.Tensor2D {
  const D = v[0]!.shape[1];
  const P = u.length;
  const ranks = u.map((t) => t.shape[1]);
  const f = tf.customGrad((...args: Args) => {
    const vars = args.slice(0, -1) as tf.Tensor2D[];
    // Ugₖ = the U rows asked for, per touched block (JS memory, kept for the backward)
    const ug = blocks.map((p, k) => {
      const r = ranks[p]!;
      const src = view(vars[2 * p]!);
      const out = new Float32Array(rows[k]!.length * r);
      rows[k]!.forEach((row, t) => out.set(src.subarray(row * r, (row + 1) * r), t * r));
      return out;
    });
    const value = fillTensor<tf.Rank.R2>([n, D], (out) => {
      const tmp = new Float32Array(Math.max(0, ...rows.map((rs) => rs.length)) * D);
      blocks.forEach((p, k) => {
        const c = rows[k]!.length;
        nk.sgemm(false, false, c, D, ranks[p]!, 1, ug[k]!, ranks[p]!, view(vars[2 * p + 1]!), D, 0, tmp, D);
        positions[k]!.forEach((i, t) => out.set(tmp.subarray(t * D, (t + 1) * D), i * D));
      });
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor) =>
        fillTensors(
          vars.map((t) => [...t.shape]),
          (outs) => {
            const g = view(dy);
            const dyp = new Float32Array(Math.max(0, ...rows.map((rs) => rs.length)) * D);
            const slot = new Int32Array(P).fill(-1);
            blocks.forEach((p, k) => (slot[p] = k));
            for (let p = 0; p < P; p++) {
              const [du, dv] = [outs[2 * p]!, outs[2 * p + 1]!];
              du.fill(0);
              const k = slot[p]!;
              if (k < 0) {
                dv.fill(0);
                continue;
              }
              const [r, c] = [ranks[p]!, rows[k]!.length];
              positions[k]!.forEach((i, t) => dyp.set(g.subarray(i * D, (i + 1) * D), t * D));
              nk.sgemm(true, false, r, D, c, 1, ug[k]!, r, dyp, D, 0, dv, D); // dVₚ = Ugᵀ·dyₚ
              const dRows = new Float32Array(c * r);
              nk.sgemm(false, true, c, r, D, 1, dyp, D, view(vars[2 * p + 1]!), D, 0, dRows, r); // dyₚ·Vₚᵀ
              rows[k]!.forEach((row, t) => {
                for (let j = 0; j < r; j++) du[row * r + j]! += dRows[t * r + j]!;
              });
            }
          },
        ),
    };
  });
  return f(...u.flatMap((t, p) => [t, v[p]!])) as tf.Tensor2D;
}

/** [0, a₀, a₀+a₁, …, Σa]. */
function offsets(a: number[]): number[] {
  const out = [0];
  for (const x of a) out.push(out[out.length - 1]! + x);
  return out;
}
