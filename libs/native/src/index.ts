// The optional native kernels (addon.cc), built at `npm install` by scripts/build.mjs. Where the
// build failed or was skipped, loadNativeKernels() says why and lmsweep trains on wasm alone.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The addon's functions. Matrices are row-major float32 arrays; every length is checked by the
 * addon against the sizes given (a misfit throws a RangeError naming the argument).
 */
export interface NativeKernels {
  /** Threads of every later call, the caller's included (1..256); returns the count in effect. */
  setThreads(n: number): number;
  threads(): number;
  /** The matrix-product micro-kernel in use: 'avx2-fma' or 'portable'. */
  simd(): string;
  /** C:[M,N] = alpha·op(A)·op(B) + beta·C with op(A):[M,K], op(B):[K,N]; beta 0 never reads C. */
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Float32Array, lda: number, B: Float32Array, ldb: number, beta: number, C: Float32Array, ldc: number): void;
  /**
   * x:[n,h], W:[h,V], b:[V], targets:[n] → Σᵢ −log softmax(xᵢ·W + b)[tᵢ]; P:[n,V] keeps
   * exp(z − rowmax) and rowSum:[n] its row sums, for the backward.
   */
  softmaxXentForward(n: number, h: number, V: number, x: Float32Array, W: Float32Array, b: Float32Array, targets: Int32Array, P: Float32Array, rowSum: Float64Array): number;
  /** Gradients of g·(that loss) into dx:[n,h], dW:[h,V], db:[V]; P becomes dz = g·(softmax − onehot). */
  softmaxXentBackward(n: number, h: number, V: number, g: number, x: Float32Array, W: Float32Array, P: Float32Array, targets: Int32Array, rowSum: Float64Array, dx: Float32Array, dW: Float32Array, db: Float32Array): void;
  /**
   * The same loss for logits z already in P:[n,V] (without the bias b:[V]): returns
   * Σᵢ −log softmax(zᵢ + b)[tᵢ]; P becomes exp(z + b − rowmax), rowSum:[n] its row sums.
   */
  softmaxXentRows(n: number, V: number, P: Float32Array, b: Float32Array, targets: Int32Array, rowSum: Float64Array): number;
  /** Its backward for g·(that loss): P becomes dz = g·(softmax − onehot) in place, db:[V] the column sums of dz. */
  softmaxXentRowsBackward(n: number, V: number, g: number, P: Float32Array, targets: Int32Array, rowSum: Float64Array, db: Float32Array): void;
  /**
   * T steps of an LSTM layer: xProj:[T·B,4H] (input projections + bias, gates i f o g), Wh:[H,4H],
   * h0, c0:[B,H] → out:[(T+1)·B,H] (h₁…h_T, then c_T); gates:[T·B,4H] (activated) and
   * cells:[T·B,H] are kept for the backward.
   */
  lstmForward(T: number, B: number, H: number, xProj: Float32Array, Wh: Float32Array, h0: Float32Array, c0: Float32Array, gates: Float32Array, cells: Float32Array, out: Float32Array): void;
  /** Its backward from dy:[(T+1)·B,H] (the last B rows, c_T's, ignored) → dXProj:[T·B,4H], dWh:[H,4H]. */
  lstmBackward(T: number, B: number, H: number, Wh: Float32Array, h0: Float32Array, c0: Float32Array, gates: Float32Array, cells: Float32Array, out: Float32Array, dy: Float32Array, dXProj: Float32Array, dWh: Float32Array): void;
  /** The PHM weight W:[n·p, n·q] = Σᵢ Aᵢ ⊗ Sᵢ from A:[n,n,n], S:[n,p,q]: W[a·p+b, c·q+e] = Σᵢ A[i,a,c]·S[i,b,e]. */
  phmWeight(n: number, p: number, q: number, A: Float32Array, S: Float32Array, W: Float32Array): void;
  /** Its backward: the gradients dA:[n,n,n], dS:[n,p,q] of Σ dW⊙W (the same on any thread count). */
  phmWeightBackward(n: number, p: number, q: number, A: Float32Array, S: Float32Array, dW: Float32Array, dA: Float32Array, dS: Float32Array): void;
  /** One Adam step on g·scale: m, v in place, out = x − alpha·m/(√v + eps). */
  adam(x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array, scale: number, alpha: number, beta1: number, beta2: number, eps: number): void;
  /** out = x − k·g. */
  sgd(x: Float32Array, g: Float32Array, out: Float32Array, k: number): void;
  /** Σ x², accumulated in double. */
  sumSquares(x: Float32Array): number;
  /** y = GELU(x) in its tanh form, x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2, elementwise. */
  gelu(x: Float32Array, y: Float32Array): void;
  /** dx = dy·GELU'(x). */
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** Per row of x:[n,d]: x̂ = (x − μ)/√(σ² + eps) into xhat, y = x̂·gamma + beta, rstd:[n] = 1/√(σ² + eps). */
  layerNormForward(n: number, d: number, eps: number, x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, xhat: Float32Array, rstd: Float32Array): void;
  /** Its backward from dy:[n,d] → dx:[n,d], dgamma, dbeta:[d] (the same on any thread count). */
  layerNormBackward(n: number, d: number, dy: Float32Array, xhat: Float32Array, rstd: Float32Array, gamma: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void;
  /**
   * Causal self-attention: q, k, v:[T·B, heads·dh] time-major (row t·B + b) → out:[T·B, heads·dh],
   * per sequence and head softmax_{s ≤ t}(q_t·k_s/√dh)·v_s; P:[B·heads, T, T] keeps the weights (0 above the diagonal).
   */
  causalAttentionForward(T: number, B: number, heads: number, dh: number, q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, P: Float32Array): void;
  /** Its backward from dy:[T·B, heads·dh] → dq, dk, dv. */
  causalAttentionBackward(T: number, B: number, heads: number, dh: number, q: Float32Array, k: Float32Array, v: Float32Array, P: Float32Array, dy: Float32Array, dq: Float32Array, dk: Float32Array, dv: Float32Array): void;
}

export type NativeLoad = { kernels: NativeKernels; file: string } | { kernels: undefined; reason: string };

/** Where scripts/build.mjs leaves the addon. */
export const ADDON_FILE = path.join(import.meta.dirname, '..', 'build', 'Release', 'lmsweep_native.node');

let loaded: NativeLoad | undefined;

/** Loads the addon once; where it is missing or fails to load, the reason (the build's log is build.log beside build/). */
export function loadNativeKernels(): NativeLoad {
  if (loaded) return loaded;
  if (!existsSync(ADDON_FILE)) {
    const log = path.join(import.meta.dirname, '..', 'build.log');
    loaded = { kernels: undefined, reason: `not built (${existsSync(log) ? `see ${path.relative(process.cwd(), log)}` : 'run `npm run build:native`'})` };
    return loaded;
  }
  try {
    const kernels = createRequire(import.meta.url)(ADDON_FILE) as NativeKernels;
    loaded = { kernels, file: ADDON_FILE };
  } catch (e) {
    loaded = { kernels: undefined, reason: `failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
  return loaded;
}
