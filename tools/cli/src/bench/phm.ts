// `lmsweep bench phm`: dense vs PHM (materialized W, factored in both orders, the layer's own
// choice) for y = x·W, forward and forward+backward, on the fastest TensorFlow.js backend here;
// PyTorch (Debian's python3-torch, /usr/bin/python3) on the same workloads when it is installed.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { choosePhmPath, createRng, matMul, maxUsefulWasmThreads, phmAutoChoice, phmMatMul, type PhmOrder, type PhmPath, selectBackend } from '@lmsweep/nn';
import { table } from '../format.ts';
import { parseOptions } from '../options.ts';
import { PHM_BENCH } from './options.ts';

export interface PhmBenchRow {
  pass: 'forward' | 'forward+backward';
  d: number;
  n: number;
  batch: number;
  backend: string;
  dense_ms: number;
  phm_materialized_ms: number;
  /** Factored, default order (mix-first). */
  phm_factored_ms: number;
  /** Factored, the other order (contract-first). */
  phm_factored_contract_first_ms: number;
  phm_auto_ms: number;
  /** What 'auto' chose (timing both paths once for the shape; its prior rule where not timed). */
  auto_path: 'materialized' | 'factored';
  /** phm_auto_ms / the faster of materialized and factored (default order), same rounds. */
  auto_vs_fastest: number;
  /** phm_auto_ms / dense_ms, same rounds. */
  auto_vs_dense: number;
  torch_dense_ms: number | null;
  torch_phm_factored_ms: number | null;
}

export interface PhmBenchOptions {
  sizes?: number[];
  batches?: number[];
  ns?: number[];
  /** Stop repeating a measurement after this many ms (at least 3 runs after a warm-up). */
  budgetMs?: number;
  torch?: boolean;
  /** CPU threads of the wasm backend (default: a worker's, maxUsefulWasmThreads()). */
  wasmThreads?: number;
  /** Native kernels on the wasm backend where built (default true, as a worker). */
  native?: boolean;
}

/**
 * Wall times in ms of several functions measured together: two warm-ups each, then rounds in
 * which each runs once (in a rotating order), at least 5 rounds and up to 40 while within
 * budgetMs per function; the fastest run of each. Measured in the same rounds, the variants of
 * one cell see the same machine: a slow spell of other processes cannot favour one of them (on
 * this VM timings drift by tens of percent between seconds). The fastest, not the median: the
 * run least disturbed.
 */
function timeTogether<K extends string>(fs: Record<K, () => void>, budgetMs: number): Record<K, number> {
  const keys = Object.keys(fs) as K[];
  for (const k of keys) {
    fs[k]();
    fs[k]();
  }
  const best = Object.fromEntries(keys.map((k) => [k, Infinity])) as Record<K, number>;
  const start = performance.now();
  for (let r = 0; r < 5 || (r < 40 && performance.now() - start < budgetMs * keys.length); r++) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[(i + r) % keys.length]!;
      const t0 = performance.now();
      fs[k]();
      best[k] = Math.min(best[k], performance.now() - t0);
    }
  }
  return best;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Runs the grid; one row per (pass, d, n, batch). */
export async function runPhmBench(opts: PhmBenchOptions = {}): Promise<PhmBenchRow[]> {
  const info = await selectBackend('auto', { wasmThreads: opts.wasmThreads ?? maxUsefulWasmThreads(), ...(opts.native !== undefined ? { native: opts.native } : {}) });
  const sizes = opts.sizes ?? [200, 800, 1600];
  const batches = opts.batches ?? [1, 700];
  const ns = opts.ns ?? [2, 4, 8];
  const budgetMs = opts.budgetMs ?? 300;
  const rng = createRng(1, 0);
  const rand = (shape: number[]) => tf.tensor(rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), -0.1, 0.1), shape);
  const torch = opts.torch === false ? undefined : torchTimes(sizes, batches, ns);
  const rows: PhmBenchRow[] = [];
  for (const d of sizes) {
    for (const batch of batches) {
      const x = rand([batch, d]) as tf.Tensor2D;
      const dy = rand([batch, d]) as tf.Tensor2D;
      const w = rand([d, d]) as tf.Tensor2D;
      type Variant = 'dense' | 'mat' | 'fac' | 'alt' | 'auto';
      const dense = (xx: tf.Tensor2D, ww: tf.Tensor) => matMul(xx, ww as tf.Tensor2D);
      for (const n of ns) {
        if (d % n !== 0) continue;
        const a = rand([n, n, n]) as tf.Tensor3D;
        const s = rand([n, d / n, d / n]) as tf.Tensor3D;
        const phm = (path: PhmPath, order?: PhmOrder) => (xx: tf.Tensor2D, aa: tf.Tensor, ss: tf.Tensor) => phmMatMul(xx, aa as tf.Tensor3D, ss as tf.Tensor3D, path, order);
        const variants: Record<Variant, { f: (x: tf.Tensor2D, ...ws: tf.Tensor[]) => tf.Tensor2D; ws: tf.Tensor[] }> = {
          dense: { f: dense as (x: tf.Tensor2D, ...ws: tf.Tensor[]) => tf.Tensor2D, ws: [w] },
          mat: { f: phm('materialized') as (x: tf.Tensor2D, ...ws: tf.Tensor[]) => tf.Tensor2D, ws: [a, s] },
          fac: { f: phm('factored', 'mix-first') as (x: tf.Tensor2D, ...ws: tf.Tensor[]) => tf.Tensor2D, ws: [a, s] },
          alt: { f: phm('factored', 'contract-first') as (x: tf.Tensor2D, ...ws: tf.Tensor[]) => tf.Tensor2D, ws: [a, s] },
          auto: { f: phm('auto') as (x: tf.Tensor2D, ...ws: tf.Tensor[]) => tf.Tensor2D, ws: [a, s] },
        };
        const each = <T>(g: (v: { f: (x: tf.Tensor2D, ...ws: tf.Tensor[]) => tf.Tensor2D; ws: tf.Tensor[] }) => T) =>
          Object.fromEntries(Object.entries(variants).map(([k, v]) => [k, g(v as (typeof variants)[Variant])])) as Record<Variant, T>;
        // Forward, and forward with the gradients of x and every weight (dy fixed).
        const fwd = timeTogether(each(({ f, ws }) => () => tf.tidy(() => void f(x, ...ws).dataSync())), budgetMs);
        const both = timeTogether(
          each(({ f, ws }) => {
            const loss = (xx: tf.Tensor, ...wws: tf.Tensor[]) => tf.sum(tf.mul(f(xx as tf.Tensor2D, ...wws), dy));
            return () => tf.tidy(() => void tf.grads(loss)([x, ...ws]).forEach((g) => g.dataSync()));
          }),
          budgetMs * 2,
        );
        const m = { fwd, both };
        const t = torch?.get(`${d},${n},${batch}`);
        for (const [pass, k] of [['forward', 'fwd'], ['forward+backward', 'both']] as const) {
          rows.push({
            pass,
            d,
            n,
            batch,
            backend: info.device ? `${info.backend} (${info.device})` : info.backend,
            dense_ms: round(m[k].dense),
            phm_materialized_ms: round(m[k].mat),
            phm_factored_ms: round(m[k].fac),
            phm_factored_contract_first_ms: round(m[k].alt),
            phm_auto_ms: round(m[k].auto),
            auto_path: phmAutoChoice(batch, d, d, n, 'mix-first')?.path ?? choosePhmPath(batch, n),
            auto_vs_fastest: round(m[k].auto / Math.min(m[k].mat, m[k].fac)),
            auto_vs_dense: round(m[k].auto / m[k].dense),
            torch_dense_ms: t ? round(t[pass].dense) : null,
            torch_phm_factored_ms: t ? round(t[pass].phm) : null,
          });
        }
        tf.dispose([a, s]);
      }
      tf.dispose([x, dy, w]);
    }
  }
  return rows;
}

type TorchTimes = Map<string, Record<'forward' | 'forward+backward', { dense: number; phm: number }>>;

/** Runs bench/phm-torch.py with Debian's python3 (where python3-torch installs); undefined when torch is missing. */
function torchTimes(sizes: number[], batches: number[], ns: number[]): TorchTimes | undefined {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'phm-torch.py');
  const python = '/usr/bin/python3';
  if (!existsSync(python) || !existsSync(script)) return undefined;
  try {
    const out = execFileSync(python, [script, JSON.stringify({ sizes, batches, ns })], { encoding: 'utf8', timeout: 150_000, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } });
    const map: TorchTimes = new Map();
    for (const line of out.split('\n').filter(Boolean)) {
      const r = JSON.parse(line) as { d: number; n: number; batch: number; pass: 'forward' | 'forward+backward'; dense_ms: number; phm_factored_ms: number };
      const key = `${r.d},${r.n},${r.batch}`;
      const entry = map.get(key) ?? ({} as Record<'forward' | 'forward+backward', { dense: number; phm: number }>);
      entry[r.pass] = { dense: r.dense_ms, phm: r.phm_factored_ms };
      map.set(key, entry);
    }
    return map;
  } catch {
    return undefined;
  }
}

const COLUMNS: (keyof PhmBenchRow)[] = ['pass', 'd', 'n', 'batch', 'dense_ms', 'phm_materialized_ms', 'phm_factored_ms', 'phm_factored_contract_first_ms', 'phm_auto_ms', 'auto_path', 'auto_vs_fastest', 'auto_vs_dense', 'torch_dense_ms', 'torch_phm_factored_ms'];

export async function benchPhm(ctx: { json: boolean; out: (line: string) => void; args?: string[] }): Promise<void> {
  const { values } = parseOptions({ options: PHM_BENCH.options }, ctx.args ?? []);
  const list = (v: string | undefined) => v?.split(',').map(Number);
  const rows = await runPhmBench({
    sizes: list(values.sizes),
    batches: list(values.batches),
    ns: list(values.ns),
    wasmThreads: values['wasm-threads'],
    ...(values.native !== undefined ? { native: values.native === 'on' } : {}),
    torch: values['no-torch'] !== true,
  });
  if (ctx.json) {
    for (const r of rows) ctx.out(JSON.stringify(r));
    return;
  }
  ctx.out(`PHM dense y = x·W, d = k, times in ms (fastest of ≥ 5 interleaved rounds); backend ${rows[0]?.backend ?? '?'}`);
  if (rows.every((r) => r.torch_dense_ms === null)) ctx.out('torch columns empty: /usr/bin/python3 with torch (Debian python3-torch) not found');
  ctx.out(table(COLUMNS.map(String), rows.map((r) => COLUMNS.map((c) => (r[c] === null ? '–' : (r[c] as string | number))))));
}
