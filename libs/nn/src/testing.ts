// Helpers for this library's tests (not exported from the package entry).
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsBuilt } from './native.ts';

/**
 * The CPU paths a numerics test runs on, as [label, backend, native kernels]: wasm with the
 * native kernels where they were built, wasm alone, and the pure-JS backend.
 */
export const TEST_BACKENDS: [string, 'wasm' | 'cpu', boolean][] = [
  ...(nativeKernelsBuilt() ? [['wasm+native', 'wasm', true] as [string, 'wasm', boolean]] : []),
  ['wasm', 'wasm', false],
  ['cpu', 'cpu', false],
];

/** Central differences of f in the variable v at the listed flat indices; v is restored afterwards. */
export function finiteDifferences(f: () => number, v: tf.Variable, indices: number[], eps: number): number[] {
  const base = v.dataSync().slice();
  const at = (i: number, delta: number) => {
    const d = base.slice();
    d[i]! += delta;
    tf.tidy(() => v.assign(tf.tensor(d, v.shape)));
    return f();
  };
  const out = indices.map((i) => (at(i, eps) - at(i, -eps)) / (2 * eps));
  tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
  return out;
}
