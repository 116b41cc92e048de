// A rank-r dense layer y = x·U·V (+ b), U:[d, r], V:[r, k]: the baseline PHM is compared with
// (the "SVD-style" factorization of the same layer, trained from scratch).
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients.ts';
import { matMul } from './ops.ts';
import type { Rng } from './random.ts';

/** Exact parameter count of a rank-r layer d → k: r·(d + k), plus k with a bias. */
export function lowRankParamCount(d: number, k: number, r: number, bias = true): number {
  if (![d, k, r].every((v) => Number.isInteger(v) && v >= 1)) throw new RangeError(`low-rank layer: d=${d}, k=${k}, rank=${r} must be positive integers`);
  return r * (d + k) + (bias ? k : 0);
}

/**
 * Glorot-uniform U and V, each as its own matrix: U ~ U(±√(6/(d+r))), V ~ U(±√(6/(r+k))).
 * (The product then has variance 4r/((d+r)(r+k)) per entry, below a dense Glorot layer's for r < (d+k)/2.)
 */
export function lowRankGlorotInit(rng: Rng, d: number, k: number, r: number): { u: Float32Array; v: Float32Array } {
  lowRankParamCount(d, k, r);
  const lu = Math.sqrt(6 / (d + r));
  const lv = Math.sqrt(6 / (r + k));
  return { u: rng.fillUniform(new Float32Array(d * r), -lu, lu), v: rng.fillUniform(new Float32Array(r * k), -lv, lv) };
}

/** x:[B, d] · U:[d, r] · V:[r, k] → [B, k], as two products (B·r·(d + k) multiply-adds), differentiable. */
export function lowRankMatMul(x: tf.Tensor2D, u: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor2D {
  ensureGradients();
  if (x.shape[1] !== u.shape[0] || u.shape[1] !== v.shape[0]) throw new Error(`lowRankMatMul: x [${x.shape}], U [${u.shape}], V [${v.shape}] do not chain`);
  return tf.tidy(() => matMul(matMul(x, u), v));
}

export interface LowRankDenseOptions {
  inputSize: number;
  outputSize: number;
  rank: number;
  rng: Rng;
  /** Add a bias (zeros at start). Default true. */
  bias?: boolean;
  /** Variable name prefix (`<name>/U`, `<name>/V`, `<name>/b`); unique per layer. */
  name: string;
}

/** A trainable rank-r dense layer: x:[B, d] → x·U·V + b:[B, k]. */
export class LowRankDense {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly rank: number;
  readonly u: tf.Variable<tf.Rank.R2>;
  readonly v: tf.Variable<tf.Rank.R2>;
  readonly b: tf.Variable<tf.Rank.R1> | undefined;
  readonly variables: tf.Variable[];

  constructor(opts: LowRankDenseOptions) {
    const { inputSize: d, outputSize: k, rank: r } = opts;
    const init = lowRankGlorotInit(opts.rng, d, k, r);
    this.inputSize = d;
    this.outputSize = k;
    this.rank = r;
    const variable = <R extends tf.Rank>(t: tf.Tensor<R>, name: string) => {
      const v = tf.variable(t, true, `${opts.name}/${name}`);
      t.dispose();
      return v;
    };
    this.u = variable(tf.tensor2d(init.u, [d, r]), 'U');
    this.v = variable(tf.tensor2d(init.v, [r, k]), 'V');
    this.b = opts.bias === false ? undefined : variable(tf.zeros([k]) as tf.Tensor1D, 'b');
    this.variables = [this.u, this.v, ...(this.b ? [this.b] : [])];
  }

  paramCount(): number {
    return lowRankParamCount(this.inputSize, this.outputSize, this.rank, this.b !== undefined);
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const y = lowRankMatMul(x, this.u, this.v);
      return this.b ? (tf.add(y, this.b) as tf.Tensor2D) : y;
    });
  }

  /** The product W = U·V:[d, k] (differentiable). */
  weight(): tf.Tensor2D {
    return matMul(this.u, this.v);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
