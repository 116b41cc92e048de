// The optional native kernels (@lmsweep/native) on the wasm backend: the fused ops (fused.ts,
// ops.ts) and the optimizer (train.ts) hand them views into the wasm heap, so tensors stay where
// tfjs keeps them and nothing is copied. Elsewhere, or where the addon was not built, every op
// takes its wasm (or reference) path; the tests check both give the same numbers.
import { loadNativeKernels, type NativeKernels } from '@lmsweep/native';
import { heapAccess } from './wasm-heap.ts';

let enabled = true;

/** Switches the native kernels on (default, where they load) or off, e.g. to compare the two paths. */
export function setNativeKernels(on: boolean): void {
  enabled = on;
}

/** Whether native kernels may be used: switched on, and the addon loaded (else the reason it did not). */
export function nativeKernelsStatus(): { available: true; simd: string; threads: number } | { available: false; reason: string } {
  if (!enabled) return { available: false, reason: 'switched off' };
  const r = loadNativeKernels();
  return r.kernels ? { available: true, simd: r.kernels.simd(), threads: r.kernels.threads() } : { available: false, reason: r.reason };
}

/** Whether the addon was built and loads here (switched on or not). */
export function nativeKernelsBuilt(): boolean {
  return loadNativeKernels().kernels !== undefined;
}

/** The native kernels where the fused ops should use them: switched on, loaded, and the backend is wasm. */
export function native(): NativeKernels | undefined {
  if (!enabled || !heapAccess()) return undefined;
  return loadNativeKernels().kernels;
}

/** Threads of the native kernels (where they load); returns the count in effect, or undefined without them. */
export function setNativeThreads(n: number): number | undefined {
  const k = loadNativeKernels().kernels;
  return k ? k.setThreads(n) : undefined;
}
