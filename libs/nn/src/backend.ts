// TensorFlow.js backend selection: native TensorFlow (GPU, CPU) when installed, else wasm, else pure JS.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernelsBuilt, nativeKernelsStatus, setNativeKernels, setNativeThreads } from './native.ts';
import { createThreadedWasmBackend, MAX_WASM_THREADS } from './wasm-threads.ts';

export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendPreference = 'auto' | BackendName;

export interface BackendInfo {
  /** The choice that loaded: 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu'. */
  backend: BackendName;
  /** What it runs on, for humans: "NVIDIA H100 80GB HBM3", "CPU wasm SIMD, 2 threads", … */
  device: string;
}

export interface SelectBackendOptions {
  /**
   * CPU threads of the wasm backend (default 1). With the native kernels (native.ts, on by
   * default where they were built) these are the kernels' threads and XNNPACK stays on one (its
   * spinning workers would contend with them). Without, XNNPACK's (at most 8): above 1 the
   * package's threaded-SIMD module is loaded (wasm-threads.ts); where it cannot start, the
   * single-threaded one, and the device string says why. On a machine whose cores are busy with
   * other processes, 2 threads measured slower than 1; on an idle one they pay off.
   */
  wasmThreads?: number;
  /** Native kernels on the wasm backend where they were built (default true); false: wasm alone. */
  native?: boolean;
}

/**
 * The most CPU threads worth asking for: every logical core with the native kernels (their pool
 * grows as asked), else up to the threaded wasm build's pool of 8.
 */
export function maxUsefulWasmThreads(): number {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return Math.max(1, nativeKernelsBuilt() ? Math.min(cores, 256) : Math.min(MAX_WASM_THREADS, cores));
}

/** The native packages are optional dependencies: usually absent, so never imported statically. */
const NATIVE_PACKAGE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

let current: BackendInfo | undefined;
let wasmPathsSet = false;

/** The backend chosen by the last successful selectBackend, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current && tf.getBackend() === tfName(current.backend) ? current : undefined;
}

const tfName = (b: BackendName) => (b === 'tensorflow-gpu' ? 'tensorflow' : b);

function gpuName(): string {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const names = out.split('\n').map((l) => l.trim()).filter(Boolean);
    if (names.length === 0) return 'CUDA GPU';
    return names.length === 1 ? names[0]! : `${names.length}× ${names[0]!}`;
  } catch {
    return 'CUDA GPU';
  }
}

async function loadNative(choice: 'tensorflow-gpu' | 'tensorflow'): Promise<string> {
  const pkg = NATIVE_PACKAGE[choice];
  try {
    await import(/* @vite-ignore */ pkg);
  } catch (e) {
    throw new Error(`backend "${choice}" needs ${pkg}, which could not be loaded (${firstLine(e)})`);
  }
  // The native package registers its backend on the @tensorflow/tfjs-core it resolves; when npm
  // gave it a copy of its own, ours never sees it.
  if (!tf.findBackendFactory('tensorflow')) {
    throw new Error(`${pkg} loaded but registered no "tensorflow" backend on this @tensorflow/tfjs-core ${tf.version_core} (a second tfjs-core copy?)`);
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`backend "${choice}": ${pkg} is installed but its backend failed to initialize`);
  return choice === 'tensorflow-gpu' ? gpuName() : 'CPU (libtensorflow)';
}

/** Directory of @tensorflow/tfjs-backend-wasm's dist folder, with a trailing slash (where its .wasm files lie). */
export function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/** The stock 'wasm' factory (single-threaded under Node) and the thread count the registered one asks for. */
let stockWasmFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | undefined;
let wasmThreadsRegistered = 1;
let threadedFailure: string | undefined;

/** Registers the 'wasm' factory for `threads` threads: the threaded module, falling back to the stock one. */
function registerWasm(threads: number): void {
  stockWasmFactory ??= tf.findBackendFactory('wasm') ?? undefined;
  if (threads === wasmThreadsRegistered) return;
  const stock = stockWasmFactory;
  if (!stock) return;
  tf.removeBackend('wasm');
  threadedFailure = undefined;
  tf.registerBackend(
    'wasm',
    threads > 1
      ? async () => {
          try {
            return await createThreadedWasmBackend(threads);
          } catch (e) {
            threadedFailure = firstLine(e);
            return stock();
          }
        }
      : stock,
    2,
  );
  wasmThreadsRegistered = threads;
}

let cpuThreads = 1;

async function loadWasm(threads: number): Promise<string> {
  if (!wasmPathsSet) {
    setWasmPaths(wasmDistDir());
    wasmPathsSet = true;
  }
  if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`wasmThreads must be a positive integer, got ${threads}`);
  const nat = nativeKernelsStatus();
  cpuThreads = threads;
  if (nat.available) setNativeThreads(threads);
  registerWasm(nat.available ? 1 : Math.min(threads, MAX_WASM_THREADS));
  // The Emscripten module adds process listeners that rethrow every uncaught exception and
  // unhandled rejection from inside its minified source (Node then prints a ~50 kB line):
  // take back the ones it adds.
  type Listener = (...args: unknown[]) => void;
  const events = ['uncaughtException', 'unhandledRejection'];
  const listeners = (ev: string) => process.listeners(ev as 'exit') as Listener[];
  const before = events.map((ev) => new Set(listeners(ev)));
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch (e) {
    throw new Error(`backend "wasm" failed to initialize (${firstLine(e)})`);
  } finally {
    events.forEach((ev, i) => {
      for (const l of listeners(ev)) if (!before[i]!.has(l)) process.removeListener(ev, l);
    });
  }
  if (!ok) throw new Error(`backend "wasm" failed to initialize from ${wasmDistDir()}`);
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  let used = 1;
  try {
    const mod = (tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } }).wasm;
    used = mod?.tfjs?.getThreadsCount?.() ?? 1;
  } catch {
    // older builds lack the call: single-threaded
  }
  const why = wasmThreadsRegistered > 1 && threadedFailure ? ` (threaded module failed: ${threadedFailure})` : '';
  const plural = (n: number) => `${n} thread${n === 1 ? '' : 's'}`;
  if (nat.available) return `CPU wasm ${simd ? 'SIMD' : 'no SIMD'} + native kernels (${nat.simd}), ${plural(threads)}`;
  return `CPU wasm ${simd ? 'SIMD' : 'no SIMD'}, ${plural(used)}${why}`;
}

async function loadCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error('backend "cpu" failed to initialize');
  // Its first use prints "install our node backend" to the console; we chose it knowingly.
  const cpu = tf.backend() as unknown as { firstUse?: boolean };
  if (cpu.firstUse) cpu.firstUse = false;
  return 'CPU (pure JS)';
}

function load(choice: BackendName, opts: SelectBackendOptions): Promise<string> {
  switch (choice) {
    case 'tensorflow-gpu':
    case 'tensorflow':
      return loadNative(choice);
    case 'wasm':
      // absent: the count chosen before in this process, else the default
      return loadWasm(opts.wasmThreads ?? cpuThreads);
    case 'cpu':
      return loadCpu();
  }
}

/**
 * Makes a TensorFlow.js backend current and says which: with 'auto', the first that loads of
 * tensorflow-gpu (@tensorflow/tfjs-node-gpu), tensorflow (@tensorflow/tfjs-node), wasm and cpu
 * (pure JS). An explicit choice that cannot load throws, naming the reason.
 */
export function selectBackend(prefer: BackendPreference = 'auto', opts: SelectBackendOptions = {}): Promise<BackendInfo> {
  // One selection at a time: two callers in one process (two in-process workers) must not
  // initialize a backend concurrently.
  const next = selecting.catch(() => undefined).then(() => selectNow(prefer, opts));
  selecting = next;
  return next;
}

let selecting: Promise<unknown> = Promise.resolve();

async function selectNow(prefer: BackendPreference, opts: SelectBackendOptions): Promise<BackendInfo> {
  if (prefer !== 'auto' && !BACKENDS.includes(prefer)) {
    throw new Error(`unknown backend "${String(prefer)}": expected auto, ${BACKENDS.join(', ')}`);
  }
  if (opts.native !== undefined) setNativeKernels(opts.native);
  const sameThreads = prefer !== 'wasm' || ((opts.wasmThreads === undefined || opts.wasmThreads === cpuThreads) && opts.native === undefined);
  if (prefer !== 'auto' && sameThreads && current?.backend === prefer && tf.getBackend() === tfName(prefer)) return current;
  const order: BackendName[] = prefer === 'auto' ? [...BACKENDS] : [prefer];
  const failures: string[] = [];
  for (const choice of order) {
    try {
      const device = await load(choice, opts);
      await tf.ready();
      current = { backend: choice, device };
      return current;
    } catch (e) {
      if (prefer !== 'auto') throw e;
      failures.push(firstLine(e));
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded: ${failures.join('; ')}`);
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return msg.split('\n')[0] ?? msg;
}
