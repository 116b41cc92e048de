// The Transformer's own differentiable ops, each one tape node with a hand-written backward pass
// over flat float32 data (heap views on wasm, copies elsewhere): layer normalization, GELU and
// causal multi-head self-attention; on the native kernels where they load (the same formulas in
// C++, tested against the same float64 references). Rows are time-major, as the LSTM's: row t·B + b is token t of
// sequence b, so a window's batch needs no reshaping between the model's matrix products.
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients.ts';
import { native } from './native.ts';
import { fastExp, fillTensors, view } from './wasm-heap.ts';

type Args = Array<tf.Tensor | tf.GradSaveFunc>;

/** ε of layerNorm, PyTorch's default. */
export const LAYER_NORM_EPS = 1e-5;

/**
 * Layer normalization over each row: x:[n, d], gamma, beta:[d] → (x − μ)/√(σ² + ε)·gamma + beta,
 * with μ and σ² (biased) the row's mean and variance. Differentiable in all three; the forward
 * keeps the normalized rows x̂ and 1/√(σ² + ε) for the backward:
 *   dγ = Σ_rows dy⊙x̂,  dβ = Σ_rows dy,  dx = rstd·(g − mean(g) − x̂·mean(g⊙x̂)) with g = dy⊙γ.
 */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = LAYER_NORM_EPS): tf.Tensor2D {
  ensureGradients();
  const [n, d] = x.shape;
  if (gamma.shape[0] !== d || beta.shape[0] !== d) throw new Error(`layerNorm: x [${x.shape}], gamma [${gamma.shape}], beta [${beta.shape}] do not fit`);
  const f = tf.customGrad((...args: Args) => {
    const [xs, g, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const nk = native();
    const [y, xhat, rstd] = fillTensors([[n, d], [n, d], [n]], ([yv, hv, rv]) => {
      if (nk) return nk.layerNormForward(n, d, eps, view(xs), view(g), view(b), yv!, hv!, rv!);
      const xv = view(xs);
      const gv = view(g);
      const bv = view(b);
      for (let i = 0; i < n; i++) {
        const o = i * d;
        let mean = 0;
        for (let j = 0; j < d; j++) mean += xv[o + j]!;
        mean /= d;
        let variance = 0;
        for (let j = 0; j < d; j++) {
          const c = xv[o + j]! - mean;
          variance += c * c;
        }
        const r = 1 / Math.sqrt(variance / d + eps);
        rv![i] = r;
        for (let j = 0; j < d; j++) {
          const h = (xv[o + j]! - mean) * r;
          hv![o + j] = h;
          yv![o + j] = h * gv[j]! + bv[j]!;
        }
      }
    }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    save([xhat, rstd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sh, sr, sg] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        return fillTensors([[n, d], [d], [d]], ([dx, dg, db]) => {
          if (nk) return nk.layerNormBackward(n, d, view(dy), view(sh), view(sr), view(sg), dx!, dg!, db!);
          const dyv = view(dy);
          const hv = view(sh);
          const rv = view(sr);
          const gv = view(sg);
          dg!.fill(0);
          db!.fill(0);
          for (let i = 0; i < n; i++) {
            const o = i * d;
            let mg = 0;
            let mgh = 0;
            for (let j = 0; j < d; j++) {
              const gy = dyv[o + j]! * gv[j]!;
              mg += gy;
              mgh += gy * hv[o + j]!;
              dg![j]! += dyv[o + j]! * hv[o + j]!;
              db![j]! += dyv[o + j]!;
            }
            mg /= d;
            mgh /= d;
            const r = rv[i]!;
            for (let j = 0; j < d; j++) dx![o + j] = r * (dyv[o + j]! * gv[j]! - mg - hv[o + j]! * mgh);
          }
        });
      },
    };
  });
  return f(x, gamma, beta) as tf.Tensor2D;
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/**
 * GELU in its tanh form (Hendrycks & Gimpel 2016; GPT-2's, PyTorch's approximate='tanh'):
 * x·(1 + tanh(c·(x + a·x³)))/2 with c = √(2/π), a = 0.044715, elementwise on x:[n, k].
 */
export function gelu(x: tf.Tensor2D): tf.Tensor2D {
  ensureGradients();
  const shape = x.shape;
  const f = tf.customGrad((...args: Args) => {
    const [xs, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const nk = native();
    const [y] = fillTensors([shape], ([yv]) => {
      if (nk) return nk.gelu(view(xs), yv!);
      const xv = view(xs);
      for (let i = 0; i < xv.length; i++) {
        const v = xv[i]!;
        yv![i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_A * v * v * v)));
      }
    }) as [tf.Tensor2D];
    save([xs]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        fillTensors([shape], ([dx]) => {
          if (nk) return nk.geluBackward(view(saved[0]!), view(dy), dx!);
          const xv = view(saved[0]!);
          const dyv = view(dy);
          for (let i = 0; i < xv.length; i++) {
            const v = xv[i]!;
            const t = Math.tanh(GELU_C * (v + GELU_A * v * v * v));
            dx![i] = dyv[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * v * v));
          }
        })[0]!,
    };
  });
  return f(x) as tf.Tensor2D;
}

/**
 * Causal multi-head self-attention without its projections: q, k, v:[T·B, d] time-major (row
 * t·B + b), split into `heads` column blocks of width dh = d/heads → [T·B, d], head h of token t
 * attending to tokens s ≤ t of its own sequence: softmax_s(q_t·k_s/√dh)·v_s. The forward keeps
 * the attention weights P:[B·heads, T, T] for the backward:
 *   dv_s = Σ_t P[t,s]·dy_t,  dS[t,s] = P[t,s]·(dy_t·v_s − Σ_s' P[t,s']·dy_t·v_s'),
 *   dq_t = Σ_s dS[t,s]·k_s/√dh,  dk_s = Σ_t dS[t,s]·q_t/√dh.
 */
export function causalAttention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, batch: number, heads: number): tf.Tensor2D {
  ensureGradients();
  const [rows, d] = q.shape;
  const B = batch;
  const T = rows / B;
  if (!Number.isInteger(T) || T < 1 || d % heads !== 0) throw new Error(`causalAttention: ${rows} rows, batch ${B}, width ${d}, ${heads} heads do not fit`);
  for (const [name, t] of [['k', k], ['v', v]] as const) {
    if (t.shape[0] !== rows || t.shape[1] !== d) throw new Error(`causalAttention: ${name} is [${t.shape}], q [${q.shape}]`);
  }
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const f = tf.customGrad((...args: Args) => {
    const [qs, ks, vs, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const nk = native();
    const [out, probs] = fillTensors([[rows, d], [B * heads, T, T]], ([o, p]) => {
      if (nk) return nk.causalAttentionForward(T, B, heads, dh, view(qs), view(ks), view(vs), o!, p!);
      const qv = view(qs);
      const kv = view(ks);
      const vv = view(vs);
      p!.fill(0);
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < heads; h++) {
          const pBase = (b * heads + h) * T * T;
          const col = h * dh;
          for (let t = 0; t < T; t++) {
            const qo = (t * B + b) * d + col;
            const pRow = pBase + t * T;
            let max = -Infinity;
            for (let s = 0; s <= t; s++) {
              const ko = (s * B + b) * d + col;
              let z = 0;
              for (let j = 0; j < dh; j++) z += qv[qo + j]! * kv[ko + j]!;
              z *= scale;
              p![pRow + s] = z;
              if (z > max) max = z;
            }
            let sum = 0;
            for (let s = 0; s <= t; s++) {
              const e = fastExp(p![pRow + s]! - max);
              p![pRow + s] = e;
              sum += e;
            }
            for (let j = 0; j < dh; j++) o![qo + j] = 0;
            for (let s = 0; s <= t; s++) {
              const w = p![pRow + s]! / sum;
              p![pRow + s] = w;
              const vo = (s * B + b) * d + col;
              for (let j = 0; j < dh; j++) o![qo + j]! += w * vv[vo + j]!;
            }
          }
        }
      }
    }) as [tf.Tensor2D, tf.Tensor3D];
    save([qs, ks, vs, probs]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sp] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor3D];
        return fillTensors([[rows, d], [rows, d], [rows, d]], ([dq, dk, dv]) => {
          if (nk) return nk.causalAttentionBackward(T, B, heads, dh, view(sq), view(sk), view(sv), view(sp), view(dy), dq!, dk!, dv!);
          const qv = view(sq);
          const kv = view(sk);
          const vv = view(sv);
          const pv = view(sp);
          const g = view(dy);
          dq!.fill(0);
          dk!.fill(0);
          dv!.fill(0);
          const dp = new Float64Array(T);
          for (let b = 0; b < B; b++) {
            for (let h = 0; h < heads; h++) {
              const pBase = (b * heads + h) * T * T;
              const col = h * dh;
              for (let t = 0; t < T; t++) {
                const qo = (t * B + b) * d + col;
                const pRow = pBase + t * T;
                let dot = 0;
                for (let s = 0; s <= t; s++) {
                  const vo = (s * B + b) * d + col;
                  let x = 0;
                  for (let j = 0; j < dh; j++) x += g[qo + j]! * vv[vo + j]!;
                  dp[s] = x;
                  dot += pv[pRow + s]! * x;
                  const w = pv[pRow + s]!;
                  for (let j = 0; j < dh; j++) dv![vo + j]! += w * g[qo + j]!;
                }
                for (let s = 0; s <= t; s++) {
                  const ds = pv[pRow + s]! * (dp[s]! - dot) * scale;
                  if (ds === 0) continue;
                  const ko = (s * B + b) * d + col;
                  for (let j = 0; j < dh; j++) {
                    dq![qo + j]! += ds * kv[ko + j]!;
                    dk![ko + j]! += ds * qv[qo + j]!;
                  }
                }
              }
            }
          }
        });
      },
    };
  });
  return f(q, k, v) as tf.Tensor2D;
}
