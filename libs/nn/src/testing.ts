// Helpers for this library's tests (not exported from the package entry).
import * as tf from '@tensorflow/tfjs-core';
import { describe } from 'vitest';
import { nativeKernelsBuilt } from './native.ts';

/**
 * The CPU paths a numerics test runs on, as [label, backend, native kernels, available]: wasm with
 * the native kernels, wasm alone, and the pure-JS backend. The native row is always listed, and
 * skipped (so the count shows it) where the kernels were not built.
 */
export const TEST_BACKENDS: [string, 'wasm' | 'cpu', boolean, boolean][] = [
  ['wasm+native', 'wasm', true, nativeKernelsBuilt()],
  ['wasm', 'wasm', false, true],
  ['cpu', 'cpu', false, true],
];

/** One describe block per TEST_BACKENDS row, named "NAME on LABEL"; an unavailable row's tests are skipped, not dropped. */
export function describeBackends(name: string, body: (backend: 'wasm' | 'cpu', native: boolean) => void): void {
  for (const [label, backend, native, available] of TEST_BACKENDS) describe.skipIf(!available)(`${name} on ${label}`, () => body(backend, native));
}

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
