// Multithreaded wasm (XNNPACK's thread pool) under Node, which @tensorflow/tfjs-backend-wasm
// switches off there: its loader hands Emscripten `blob:` URLs for the pthread worker script and
// the module factory, which Node's worker_threads cannot load, and it caps the pool at half the
// logical cores. This builds the same backend (its BackendWasm class, its registered kernels)
// from the package's own threaded-SIMD build, with the worker script written once to a file in
// the temp directory and the factory passed by path, and the core count the module sees set to
// give the requested threads. Nothing is downloaded: every file comes with the npm package.
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/** The pthread pool the threaded build preallocates (PTHREAD_POOL_SIZE): more threads would spawn workers on demand. */
export const MAX_WASM_THREADS = 8;

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: unknown[]) => unknown;
  PThread?: { runningWorkers?: { unref?: () => void }[]; unusedWorkers?: { unref?: () => void }[]; terminateAllThreads?: () => void };
  tfjs?: Record<string, (...a: unknown[]) => unknown>;
}

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

const requireHere = createRequire(import.meta.url);

/** The package's wasm-out folder (its threaded-SIMD .js factory, .wasm and worker script). */
function wasmOutDir(): string {
  return path.join(path.dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
}

/** The pthread worker script as a file (Node cannot start a worker from a blob: URL); written once per content. */
function workerScript(dir: string): string {
  const { wasmWorkerContents } = requireHere(path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // The string holds "\n" escapes that requiring it turned into newlines inside JS string literals.
  const text = wasmWorkerContents.replace(/\n/g, '\\n');
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `lmsweep-tfjs-wasm-worker-${digest}.cjs`);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  }
  return file;
}

/**
 * A BackendWasm on the threaded-SIMD module with `threads` XNNPACK threads (2 ≤ threads ≤ 8).
 * Throws where the build cannot run (no SharedArrayBuffer, no SIMD, a worker that fails to
 * start, or no answer within timeoutMs); the caller then falls back to the single-threaded module.
 */
export async function createThreadedWasmBackend(threads: number, timeoutMs = 30_000): Promise<tf.KernelBackend> {
  if (!(threads >= 2 && threads <= MAX_WASM_THREADS && Number.isInteger(threads))) throw new Error(`threads must be an integer in 2..${MAX_WASM_THREADS}, got ${threads}`);
  if (typeof SharedArrayBuffer !== 'function') throw new Error('no SharedArrayBuffer');
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) throw new Error('no wasm SIMD');
  const dir = wasmOutDir();
  const factoryFile = path.join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  const wasmFile = path.join(dir, 'tfjs-backend-wasm-threaded-simd.wasm');
  const factory = requireHere(factoryFile) as Factory;
  const worker = workerScript(dir);
  const { readFileSync } = await import('node:fs');
  let aborted: unknown;
  const loading = factory({
    locateFile: (p: string, prefix: string) => (p.endsWith('.worker.js') ? worker : p.endsWith('.wasm') ? wasmFile : prefix + p),
    // the workers import the factory from this path (a string: no blob)
    mainScriptUrlOrBlob: factoryFile,
    // The module caps its pool at half the logical cores it is told of.
    instantiateWasm: (info: { env: Record<string, unknown> }, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) => {
      info.env['emscripten_num_logical_cores'] = () => 2 * threads;
      WebAssembly.instantiate(readFileSync(wasmFile), info as WebAssembly.Imports).then(
        (r) => receive(r.instance, r.module),
        (e: unknown) => (aborted = e),
      );
      return {};
    },
    onAbort: (why: unknown) => (aborted = why ?? 'aborted'),
    print: () => {},
    printErr: () => {},
  });
  let timer: NodeJS.Timeout | undefined;
  const module = await Promise.race([
    loading,
    new Promise<never>((_, reject) => {
      const check = () => (aborted !== undefined ? reject(new Error(`threaded wasm aborted: ${String(aborted)}`)) : undefined);
      const started = Date.now();
      timer = setInterval(() => {
        check();
        if (Date.now() - started > timeoutMs) reject(new Error(`threaded wasm did not start within ${timeoutMs} ms`));
      }, 50);
    }),
  ]).finally(() => clearInterval(timer));
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  setThreadsCount(threads);
  const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
  // The pool's threads wait for work forever: they must not keep Node from exiting.
  for (const w of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) w.unref?.();
  return backend;
}
