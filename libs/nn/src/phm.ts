// PHM dense layer (Zhang et al., ICLR 2021, "Beyond Fully-Connected Layers with Quaternions:
// Parameterization of Hypercomplex Multiplications with 1/n Parameters"):
// a weight W:[d, k] = Σᵢ Aᵢ ⊗ Sᵢ with d·k/n + n³ parameters instead of d·k, used as y = x·W (+ b).
//
// Layout as in @lmsweep/algorithms phmMaterialize: A:[n, n, n] (Aᵢ = A[i]), S:[n, d/n, k/n],
//   W[a·(d/n) + b, c·(k/n) + e] = Σᵢ Aᵢ[a, c]·Sᵢ[b, e]   (the paper's H:[k, d] is Wᵀ).
//
// Two products, both built from reshapes, transposes and ops.ts matMul (whose gradients transpose
// explicitly: wasm's matmul is ≈10× slower with a transposed operand), so both are differentiable
// with the gradients registered in gradients.ts:
//   materialized: W = Σ Aᵢ⊗Sᵢ as one [(d/n)(k/n), n]·[n, n²] product (n·d·k multiply-adds) and a
//                 rank-4 transpose, then x·W;
//   factored:     never builds W; x:[B, d] is viewed as n blocks [B, n, d/n], the blocks are mixed
//                 by the Aᵢ and contracted with the Sᵢ: B·d·k + B·d·n² multiply-adds, reads d·k/n
//                 weights. Two orders, see PhmOrder.
import * as tf from '@tensorflow/tfjs-core';
import { checkPhmShape, phmParamCount } from '@lmsweep/algorithms';
import { ensureGradients } from './gradients.ts';
import { native } from './native.ts';
import { matMul } from './ops.ts';
import { FACTORED_MAX_BATCH_BY_ENGINE, phmAutoPath, phmEngine, type PhmEngine, phmPriorPath, type PhmTimer } from './phm-auto.ts';
import type { Rng } from './random.ts';
import { fillTensor, fillTensors, view } from './wasm-heap.ts';

type Args = Array<tf.Tensor | tf.GradSaveFunc>;

export type PhmPath = 'materialized' | 'factored' | 'auto';
/**
 * Order of the factored product.
 * mix-first: U = blocks·A ([B·d/n, n]·[n, n²]), then U·S ([B·n, d]·[d, k/n]); no transpose of the output.
 * contract-first: Z = blocks·S ([B·n, d/n]·[d/n, k]), then Z·A ([B·k/n, n²]·[n², n]), output transposed.
 */
export type PhmOrder = 'mix-first' | 'contract-first';

/**
 * Factored order used by 'factored' and 'auto'. Measured (bench phm, wasm): at batch 1 mix-first
 * is 3–30× faster forward (d=800: 0.09 vs 0.46–0.96 ms; d=1600: 0.21–0.38 vs 1.6–6.8 ms) and
 * ≈1.3× faster forward+backward; at batch 700 the two orders are within the noise.
 */
export const DEFAULT_PHM_ORDER: PhmOrder = 'mix-first';

function shapesOf(a: tf.Tensor, s: tf.Tensor): { n: number; p: number; q: number } {
  const [n, n1, n2] = a.shape;
  if (a.rank !== 3 || n1 !== n || n2 !== n) throw new Error(`PHM: A must be [n, n, n], got [${a.shape}]`);
  if (s.rank !== 3 || s.shape[0] !== n) throw new Error(`PHM: S must be [n, d/n, k/n] with n=${n}, got [${s.shape}]`);
  return { n: n!, p: s.shape[1]!, q: s.shape[2]! };
}

/** W = Σᵢ Aᵢ ⊗ Sᵢ: A:[n, n, n], S:[n, p, q] → [n·p, n·q]. Differentiable in A and S. */
export function phmWeight(a: tf.Tensor3D, s: tf.Tensor3D): tf.Tensor2D {
  ensureGradients();
  const { n, p, q } = shapesOf(a, s);
  if (native()) return phmWeightNative(a, s, n, p, q);
  return tf.tidy(() => {
    // Mᵀ[(b,e), (a,c)] = Σᵢ S[i,b,e]·A[i,a,c]. S enters transposed (a fresh buffer), never as the
    // right operand: see WASM_MATMUL_CACHE_TRAP.
    const st = tf.transpose(tf.reshape(s, [n, p * q])) as tf.Tensor2D;
    const mt = matMul(st, tf.reshape(a, [n, n * n]) as tf.Tensor2D);
    return tf.reshape(tf.transpose(tf.reshape(mt, [p, q, n, n]), [2, 0, 3, 1]), [n * p, n * q]) as tf.Tensor2D;
  });
}

/**
 * phmWeight on the native kernels: W written in one pass (no interleaving transposes), and its
 * gradient dA, dS from dW in one more, each one addon call over heap memory.
 */
function phmWeightNative(a: tf.Tensor3D, s: tf.Tensor3D, n: number, p: number, q: number): tf.Tensor2D {
  const nk = native()!;
  const f = tf.customGrad((...args: Args) => {
    const [as, ss, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    save([as, ss]);
    return {
      value: fillTensor<tf.Rank.R2>([n * p, n * q], (w) => nk.phmWeight(n, p, q, view(as), view(ss), w)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sa, sss] = saved as [tf.Tensor3D, tf.Tensor3D];
        return fillTensors([[n, n, n], [n, p, q]], ([da, ds]) => nk.phmWeightBackward(n, p, q, view(sa), view(sss), view(dy), da!, ds!));
      },
    };
  });
  return f(a, s) as tf.Tensor2D;
}

// tfjs-backend-wasm 4.22 caches its XNNPACK matmul operator (with the packed right operand) by the
// right operand's buffer id: the same buffer used as the right operand under two shapes (e.g. two
// reshapes of one variable) aborts the wasm module ("memory access out of bounds"). So each
// variable here reaches matMul's right operand in one shape only: A as [n, n²] (phmWeight),
// S as [n·p, q] (mix-first); everything else goes through a transpose, which copies.
// (WASM_MATMUL_CACHE_TRAP)

/** x·(Σᵢ Aᵢ⊗Sᵢ) without building the weight: x:[B, n·p] → [B, n·q]. Differentiable in x, A and S. */
export function phmFactoredMatMul(x: tf.Tensor2D, a: tf.Tensor3D, s: tf.Tensor3D, order: PhmOrder = DEFAULT_PHM_ORDER): tf.Tensor2D {
  ensureGradients();
  const { n, p, q } = shapesOf(a, s);
  const [B, d] = x.shape;
  if (d !== n * p) throw new Error(`PHM: input [${x.shape}] does not match the weight's input size ${n * p}`);
  return tf.tidy(() => {
    if (order === 'mix-first') {
      // x[B,a,b] → [B·p, n] (rows (B,b), columns a); · A as [a, (i,c)] → U[(B,b), (i,c)]
      const xb = tf.reshape(tf.transpose(tf.reshape(x, [B, n, p]), [0, 2, 1]), [B * p, n]) as tf.Tensor2D;
      const am = tf.reshape(tf.transpose(a, [1, 0, 2]), [n, n * n]) as tf.Tensor2D;
      const u = matMul(xb, am);
      // U → [(B,c), (i,b)] · S as [(i,b), e] → y[(B,c), e] = y[B, c·q + e]
      const ut = tf.reshape(tf.transpose(tf.reshape(u, [B, p, n, n]), [0, 3, 2, 1]), [B * n, n * p]) as tf.Tensor2D;
      return tf.reshape(matMul(ut, tf.reshape(s, [n * p, q]) as tf.Tensor2D, { gradFromLeft: true }), [B, n * q]) as tf.Tensor2D;
    }
    // x[(B,a), b] · S as [b, (i,e)] → Z[(B,a), (i,e)]
    const sc = tf.reshape(tf.transpose(s, [1, 0, 2]), [p, n * q]) as tf.Tensor2D;
    const z = matMul(tf.reshape(x, [B * n, p]) as tf.Tensor2D, sc);
    // Z → [(B,e), (a,i)] · A as [(a,i), c] → [(B,e), c] → y[B, c·q + e]
    const zt = tf.reshape(tf.transpose(tf.reshape(z, [B, n, n, q]), [0, 3, 1, 2]), [B * q, n * n]) as tf.Tensor2D;
    const ar = tf.reshape(tf.transpose(a, [1, 0, 2]), [n * n, n]) as tf.Tensor2D;
    return tf.reshape(tf.transpose(tf.reshape(matMul(zt, ar), [B, q, n]), [0, 2, 1]), [B, n * q]) as tf.Tensor2D;
  });
}

/**
 * The prior rule of 'auto' (see phm-auto.ts, which times both paths once per shape and keeps this
 * where neither is clearly faster): factored when batch ≤ the engine's FACTORED_MAX_BATCH_BY_ENGINE,
 * else materialized; n = 1 always materialized.
 *
 * On XNNPACK (wasm without the native kernels; measured with tools/cli/src/bench/phm.ts, forward
 * and forward+backward, one thread, 2026-11-23 on a shared 2-core machine, ±50% noise on single
 * cells) building W is not the n·d·k multiply-adds of its one matmul but mostly memory traffic:
 * the rank-4 transposes that interleave the Kronecker blocks (and again in the backward pass),
 * about 2.6–4.2 ms forward at d = k = 800 and 18–27 ms at 1600, whatever the batch and nearly
 * whatever n. The factored product costs ≈1.1–1.7× a dense matmul of the same batch:
 *   batch 1–8:     factored 10–100× faster (d=1600, n=4, B=1: 0.21 vs 18 ms forward)
 *   batch 32–64:   factored faster in 10 of 12 cells at d=800
 *   batch 128–256: mixed;  batch 700: materialized faster or equal in most cells.
 * On the native kernels W is built in one pass (phmWeightNative) and the crossover is lower.
 */
export function choosePhmPath(batch: number, n: number, engine: PhmEngine = phmEngine()): 'materialized' | 'factored' {
  return phmPriorPath(batch, n, engine);
}

/** The XNNPACK prior's largest factored batch (see choosePhmPath). */
export const FACTORED_MAX_BATCH = FACTORED_MAX_BATCH_BY_ENGINE.xnnpack;

/**
 * y = x·(Σᵢ Aᵢ⊗Sᵢ) by the given path. 'auto': the path phm-auto.ts chose for x's shape on the
 * engine that runs (the first call per shape times both, forward and backward, on synthetic
 * inputs of the same shape).
 */
export function phmMatMul(x: tf.Tensor2D, a: tf.Tensor3D, s: tf.Tensor3D, path: PhmPath = 'auto', order: PhmOrder = DEFAULT_PHM_ORDER): tf.Tensor2D {
  const { n, p, q } = shapesOf(a, s);
  const [B, d] = x.shape;
  const chosen = path === 'auto' ? phmAutoPath(B, d, n * q, n, order, () => phmTimer(B, n, p, q, order)) : path;
  if (chosen === 'factored') return phmFactoredMatMul(x, a, s, order);
  ensureGradients();
  return tf.tidy(() => matMul(x, phmWeight(a, s)));
}

/** Synthetic inputs of the shape, and one forward and backward pass of a path on them (phmAutoPath's timing). */
function phmTimer(B: number, n: number, p: number, q: number, order: PhmOrder): PhmTimer {
  const x = tf.randomUniform([B, n * p], -1, 1, 'float32', 1) as tf.Tensor2D;
  const a = tf.randomUniform([n, n, n], -1, 1, 'float32', 2) as tf.Tensor3D;
  const s = tf.randomUniform([n, p, q], -1, 1, 'float32', 3) as tf.Tensor3D;
  return {
    run: (path) =>
      tf.tidy(() => {
        const grads = tf.grads((xx, aa, ss) => tf.sum(phmMatMul(xx as tf.Tensor2D, aa as tf.Tensor3D, ss as tf.Tensor3D, path, order)))([x, a, s]);
        for (const g of grads) g.dataSync();
      }),
    dispose: () => tf.dispose([x, a, s]),
  };
}

/** Parameters of a PHM dense layer: d·k/n + n³, plus k with a bias. */
export function phmDenseParamCount(d: number, k: number, n: number, bias = true): number {
  return phmParamCount(d, k, n) + (bias ? k : 0);
}

/**
 * Glorot-uniform init as in the paper's code (each Aᵢ and each Sᵢ initialized as its own matrix):
 * Aᵢ ~ U(±√(6/(n+n))), Sᵢ ~ U(±√(6/(d/n + k/n))). W = Σ Aᵢ⊗Sᵢ then has variance 2n/(d+k)
 * per entry (n times a dense Glorot layer's).
 */
export function phmGlorotInit(rng: Rng, d: number, k: number, n: number): { a: Float32Array; s: Float32Array } {
  checkPhmShape({ d, k, n });
  const [p, q] = [d / n, k / n];
  const la = Math.sqrt(6 / (2 * n));
  const ls = Math.sqrt(6 / (p + q));
  return { a: rng.fillUniform(new Float32Array(n ** 3), -la, la), s: rng.fillUniform(new Float32Array(n * p * q), -ls, ls) };
}

export interface PhmDenseOptions {
  /** Input width d. */
  inputSize: number;
  /** Output width k. */
  outputSize: number;
  /** Kronecker terms; must divide both sizes. */
  n: number;
  rng: Rng;
  /** Add a bias (zeros at start). Default true. */
  bias?: boolean;
  path?: PhmPath;
  order?: PhmOrder;
  /** Variable name prefix (names are `<name>/A`, `<name>/S`, `<name>/b`); unique per layer. */
  name: string;
}

/** A trainable PHM dense layer: x:[B, d] → x·(Σᵢ Aᵢ⊗Sᵢ) + b:[B, k]. */
export class PhmDense {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly n: number;
  readonly path: PhmPath;
  readonly order: PhmOrder;
  /** [n, n, n] */
  readonly a: tf.Variable<tf.Rank.R3>;
  /** [n, d/n, k/n] */
  readonly s: tf.Variable<tf.Rank.R3>;
  readonly b: tf.Variable<tf.Rank.R1> | undefined;
  readonly variables: tf.Variable[];

  constructor(opts: PhmDenseOptions) {
    const { inputSize: d, outputSize: k, n } = opts;
    checkPhmShape({ d, k, n }, `PhmDense ${opts.name}`);
    this.inputSize = d;
    this.outputSize = k;
    this.n = n;
    this.path = opts.path ?? 'auto';
    this.order = opts.order ?? DEFAULT_PHM_ORDER;
    const init = phmGlorotInit(opts.rng, d, k, n);
    const variable = <R extends tf.Rank>(t: tf.Tensor<R>, name: string) => {
      const v = tf.variable(t, true, `${opts.name}/${name}`);
      t.dispose();
      return v;
    };
    this.a = variable(tf.tensor3d(init.a, [n, n, n]), 'A');
    this.s = variable(tf.tensor3d(init.s, [n, d / n, k / n]), 'S');
    this.b = opts.bias === false ? undefined : variable(tf.zeros([k]) as tf.Tensor1D, 'b');
    this.variables = [this.a, this.s, ...(this.b ? [this.b] : [])];
  }

  paramCount(): number {
    return phmDenseParamCount(this.inputSize, this.outputSize, this.n, this.b !== undefined);
  }

  /** x:[B, d] → [B, k]; `path` overrides the layer's. */
  apply(x: tf.Tensor2D, path: PhmPath = this.path): tf.Tensor2D {
    return tf.tidy(() => {
      const y = phmMatMul(x, this.a, this.s, path, this.order);
      return this.b ? (tf.add(y, this.b) as tf.Tensor2D) : y;
    });
  }

  /** The materialized weight W:[d, k] (differentiable). */
  weight(): tf.Tensor2D {
    return phmWeight(this.a, this.s);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
