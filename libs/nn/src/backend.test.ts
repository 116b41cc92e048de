import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { BACKENDS, currentBackend, selectBackend } from './backend.ts';
import { nativeKernelsBuilt, nativeKernelsStatus } from './native.ts';

/** Whether this machine can build the native kernels (a C++ compiler on PATH): then they must have been built. */
function hasCompiler(): boolean {
  for (const cxx of [process.env.CXX, 'c++', 'g++', 'clang++']) {
    if (!cxx) continue;
    try {
      execFileSync(cxx, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      // next
    }
  }
  return false;
}

async function installed(pkg: string): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ pkg);
    return true;
  } catch {
    return false;
  }
}

const tfjsNodeInstalled = await installed('@tensorflow/tfjs-node');

describe('selectBackend', () => {
  it('initializes wasm under Node from the package dist folder and says whether SIMD is on', async () => {
    const listeners = process.listeners('uncaughtException').length;
    const info = await selectBackend('wasm');
    expect(info.backend).toBe('wasm');
    expect(info.device).toMatch(/^CPU wasm (SIMD|no SIMD)( \+ native kernels \((avx2-fma|portable)\))?, \d+ threads?$/);
    expect(info.device.includes('native kernels')).toBe(nativeKernelsStatus().available);
    expect(info.device.includes('no SIMD')).toBe(!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')));
    expect(tf.getBackend()).toBe('wasm');
    expect(currentBackend()).toEqual(info);
    // the Emscripten module's rethrowing listeners are taken back
    expect(process.listeners('uncaughtException').length).toBe(listeners);
    const y = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
    expect(Array.from(y.dataSync())).toEqual([19, 22, 43, 50]);
  });

  it('switches to the pure-JS cpu backend and back', async () => {
    expect(await selectBackend('cpu')).toEqual({ backend: 'cpu', device: 'CPU (pure JS)' });
    expect(tf.getBackend()).toBe('cpu');
    expect((await selectBackend('wasm')).backend).toBe('wasm');
  });

  it('wasmThreads 2: the threaded-SIMD module (or the single-threaded one, saying why), same results, back to 1', async () => {
    const a = tf.tensor2d(Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i)), [64, 48]);
    const b = tf.tensor2d(Float32Array.from({ length: 48 * 32 }, (_, i) => Math.cos(i)), [48, 32]);
    const [av, bv] = [a.dataSync().slice(), b.dataSync().slice()];
    const one = tf.matMul(a, b).dataSync().slice();
    const info = await selectBackend('wasm', { wasmThreads: 2, native: false });
    expect(info.device).toMatch(/^CPU wasm SIMD, 2 threads$|threaded module failed/);
    // the old backend's tensors went with it: recreate
    const two = tf.tidy(() => tf.matMul(tf.tensor2d(av, [64, 48]), tf.tensor2d(bv, [48, 32])).dataSync().slice());
    expect(Array.from(two)).toEqual(Array.from(one));
    expect((await selectBackend('wasm', { wasmThreads: 1, native: true })).device).toMatch(/, 1 thread$/);
  });

  it('native kernels: built wherever a C++ compiler is present (else not built, saying why)', () => {
    const status = nativeKernelsStatus();
    // (LMSWEEP_NATIVE_BUILD=0 skips the build at install: the fallback's own test run)
    if (hasCompiler() && process.env.LMSWEEP_NATIVE_BUILD !== '0') expect(status).toMatchObject({ available: true });
    else if (!status.available) expect(status.reason).toMatch(/not built|failed to load|switched off/);
  });

  it.skipIf(!nativeKernelsBuilt())('native kernels: their threads set by wasmThreads, switched off on request', async () => {
    const two = await selectBackend('wasm', { wasmThreads: 2 });
    expect(two.device).toMatch(/\+ native kernels \((avx2-fma|portable)\), 2 threads$/);
    expect(nativeKernelsStatus()).toMatchObject({ available: true, threads: 2 });
    const off = await selectBackend('wasm', { wasmThreads: 1, native: false });
    expect(off.device).toMatch(/^CPU wasm (SIMD|no SIMD), 1 thread$/);
    expect(nativeKernelsStatus()).toEqual({ available: false, reason: 'switched off' });
    expect((await selectBackend('wasm', { wasmThreads: 1, native: true })).device).toMatch(/native kernels.*, 1 thread$/);
    expect(nativeKernelsStatus()).toMatchObject({ available: true, threads: 1 });
  });

  // Only meaningful where @tensorflow/tfjs-node is absent (here: its binary cannot be downloaded).
  it.skipIf(tfjsNodeInstalled)('throws a clear error for an explicit choice that cannot load', async () => {
    await expect(selectBackend('tensorflow')).rejects.toThrow(/backend "tensorflow" needs @tensorflow\/tfjs-node, which could not be loaded/);
    await expect(selectBackend('nope' as 'cpu')).rejects.toThrow(/unknown backend "nope"/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('auto picks the first that loads', async () => {
    const info = await selectBackend('auto');
    expect(BACKENDS).toContain(info.backend);
    if (!(await installed('@tensorflow/tfjs-node-gpu')) && !(await installed('@tensorflow/tfjs-node'))) expect(info.backend).toBe('wasm');
  });
});
