// PHM's 'auto' path: which product (materialized W or factored) runs faster for a layer's shape
// on the kernels that run here. The two trade places at a batch size that depends on those
// kernels (XNNPACK's matmul and tfjs transposes on wasm, the native sgemm and weight build, …), so
// each shape is timed once per process on both paths, forward and backward, and the faster kept;
// a prior per engine (the batch rule below) decides near ties, so that a choice flips only where
// one path is clearly faster. choosePhmPathFromTimes is the pure part.
import * as tf from '@tensorflow/tfjs-core';
import { native } from './native.ts';

export type PhmProduct = 'materialized' | 'factored';

/** What runs the products: the native kernels, wasm's XNNPACK, TensorFlow (tfjs-node), or the pure-JS backend. */
export type PhmEngine = 'native' | 'xnnpack' | 'tensorflow' | 'cpu';

export function phmEngine(): PhmEngine {
  const b = tf.getBackend();
  if (b === 'wasm') return native() ? 'native' : 'xnnpack';
  return b === 'tensorflow' ? 'tensorflow' : 'cpu';
}

/**
 * Largest batch the prior factors, per engine. XNNPACK (measured with bench phm, 2026-11-23,
 * one thread): building W costs 2.6–4.2 ms at d = k = 800 and 18–27 ms at 1600 in rank-4
 * transposes, so factored wins up to batch ≈ 128. The native kernels build W in one pass
 * (phm.ts phmWeightNative): at d = k = 1600, 2 threads, forward+backward, factored and
 * materialized tie near batch 64 (8–9 ms against 10–11) and materialized wins from 256 on (bench
 * phm, 2026-12-01, a shared 2-core machine). TensorFlow and the pure-JS backend keep the
 * XNNPACK rule (not measured).
 */
export const FACTORED_MAX_BATCH_BY_ENGINE: Record<PhmEngine, number> = { native: 64, xnnpack: 128, tensorflow: 128, cpu: 128 };

/**
 * The prior: factored when batch ≤ FACTORED_MAX_BATCH_BY_ENGINE[engine], else materialized;
 * n = 1 always materialized (W = a·S is one scalar multiply).
 */
export function phmPriorPath(batch: number, n: number, engine: PhmEngine): PhmProduct {
  if (n === 1) return 'materialized';
  return batch <= FACTORED_MAX_BATCH_BY_ENGINE[engine] ? 'factored' : 'materialized';
}

/** Fastest measured times (ms) of forward+backward on each path. */
export interface PhmTimes {
  materialized: number;
  factored: number;
}

/**
 * The path to take given the measured times: the prior, unless the other path was faster by more
 * than `margin` (relative: other < prior / (1 + margin)). Non-finite or missing times keep the prior.
 */
export function choosePhmPathFromTimes(times: PhmTimes, prior: PhmProduct, margin = PHM_AUTO_MARGIN): PhmProduct {
  const other: PhmProduct = prior === 'factored' ? 'materialized' : 'factored';
  const [tp, to] = [times[prior], times[other]];
  if (!(Number.isFinite(tp) && Number.isFinite(to) && tp >= 0 && to >= 0)) return prior;
  return to * (1 + margin) < tp ? other : prior;
}

/** See choosePhmPathFromTimes: 15% (timings on a busy machine move by more than 5–10%). */
export const PHM_AUTO_MARGIN = 0.15;

export interface PhmAutoChoice {
  path: PhmProduct;
  prior: PhmProduct;
  engine: PhmEngine;
  /** Absent where the engine is not timed (the pure-JS backend: too slow to time at size). */
  times?: PhmTimes;
}

/** Runs one path forward and backward on inputs of the shape being chosen for. */
export interface PhmTimer {
  run(path: PhmProduct): void;
  dispose(): void;
}

const choices = new Map<string, PhmAutoChoice>();

const keyOf = (engine: PhmEngine, batch: number, d: number, k: number, n: number, order: string) => `${engine}|${batch}|${d}|${k}|${n}|${order}`;

/** The choice made for this shape on the current engine, if one was made in this process. */
export function phmAutoChoice(batch: number, d: number, k: number, n: number, order: string): PhmAutoChoice | undefined {
  return choices.get(keyOf(phmEngine(), batch, d, k, n, order));
}

/** Forgets every choice (tests; a process that changes its thread count). */
export function resetPhmAutoChoices(): void {
  choices.clear();
}

/** Runs of each path after one warm-up, interleaved; the fastest of each is kept. */
const ROUNDS = 3;

/**
 * The product for x:[batch, d] through an n-part PHM layer [d, k] on the current engine: made
 * once per shape (and per engine) in this process, then kept. `timer()` is called only when a
 * choice is to be made: its `run(path)` runs that path forward and backward once on synthetic
 * inputs of the shape (see phm.ts), `dispose()` frees them. It may run inside a gradient tape (tfjs
 * nests tapes: the runs' nodes are never on the path to the caller's loss, and their saved tensors
 * go when that tape ends).
 */
export function phmAutoPath(batch: number, d: number, k: number, n: number, order: string, timer: () => PhmTimer): PhmProduct {
  const engine = phmEngine();
  const key = keyOf(engine, batch, d, k, n, order);
  const known = choices.get(key);
  if (known) return known.path;
  const prior = phmPriorPath(batch, n, engine);
  let choice: PhmAutoChoice = { path: prior, prior, engine };
  if (n > 1 && engine !== 'cpu') {
    const paths: PhmProduct[] = ['materialized', 'factored'];
    const times: PhmTimes = { materialized: Infinity, factored: Infinity };
    const t = timer();
    try {
      for (const p of paths) t.run(p);
      for (let r = 0; r < ROUNDS; r++) {
        for (const p of r % 2 ? [...paths].reverse() : paths) {
          const t0 = performance.now();
          t.run(p);
          times[p] = Math.min(times[p], performance.now() - t0);
        }
      }
    } finally {
      t.dispose();
    }
    choice = { path: choosePhmPathFromTimes(times, prior), prior, engine, times };
  }
  choices.set(key, choice);
  return choice.path;
}
