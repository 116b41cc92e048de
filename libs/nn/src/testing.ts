// Helpers for this library's tests (not exported from the package entry).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe } from 'vitest';
import { nativeKernelsBuilt } from './native.ts';
import { createRng } from './random.ts';

/** "the cat sat on the mat": sentences of 6 words from a tiny grammar (108 of them), ≈0.67 nats per token. */
function sentences(n: number, seed: number): string {
  const rng = createRng(seed);
  const pick = (xs: string[]) => xs[Math.floor(rng.next() * xs.length)]!;
  return Array.from({ length: n }, () => `${pick(['the', 'a'])} ${pick(['cat', 'dog', 'bird'])} ${pick(['sat', 'ran', 'slept'])} ${pick(['on', 'under'])} the ${pick(['mat', 'tree', 'house'])}\n`).join('');
}

/** Writes the grammar's corpus into `dir` (g.train.txt: 400 sentences; g.valid.txt, g.test.txt: 40 each), for loadCorpus(dir). */
export function writeGrammarCorpus(dir: string): void {
  writeFileSync(path.join(dir, 'g.train.txt'), sentences(400, 1));
  writeFileSync(path.join(dir, 'g.valid.txt'), sentences(40, 2));
  writeFileSync(path.join(dir, 'g.test.txt'), sentences(40, 3));
}

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
