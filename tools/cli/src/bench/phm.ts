// `lmsweep bench phm`: dense vs PHM (materialized W, factored in both orders, the layer's own
// choice) for y = x·W, forward and forward+backward, on the fastest TensorFlow.js backend here;
// PyTorch (Debian's python3-torch, /usr/bin/python3) on the same workloads when it is installed.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { choosePhmPath, createRng, matMul, phmMatMul, type PhmOrder, type PhmPath, selectBackend } from '@lmsweep/nn';
import { table } from '../format.ts';

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
  /** What 'auto' chose. */
  auto_path: 'materialized' | 'factored';
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
}

/**
 * Wall time of f in ms: the fastest of at least 3 runs (up to 40 within budgetMs) after two
 * warm-ups. The fastest, not the median: on a shared machine the minimum is the run least
 * disturbed by other processes.
 */
function time(f: () => void, budgetMs: number): number {
  f();
  f();
  const runs: number[] = [];
  const start = performance.now();
  while (runs.length < 3 || (runs.length < 40 && performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    f();
    runs.push(performance.now() - t0);
  }
  return Math.min(...runs);
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Runs the grid; one row per (pass, d, n, batch). */
export async function runPhmBench(opts: PhmBenchOptions = {}): Promise<PhmBenchRow[]> {
  const info = await selectBackend('auto');
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
      /** Forward, or forward and the gradients of x and every weight (dy fixed). */
      const measure = (f: (x: tf.Tensor2D, ...ws: tf.Tensor[]) => tf.Tensor2D, ws: tf.Tensor[]) => {
        const fwd = time(() => tf.tidy(() => void f(x, ...ws).dataSync()), budgetMs);
        const loss = (xx: tf.Tensor, ...wws: tf.Tensor[]) => tf.sum(tf.mul(f(xx as tf.Tensor2D, ...wws), dy));
        const both = time(() => tf.tidy(() => void tf.grads(loss)([x, ...ws]).forEach((g) => g.dataSync())), budgetMs * 2);
        return { fwd, both };
      };
      const dense = measure((xx, ww) => matMul(xx, ww as tf.Tensor2D), [w]);
      for (const n of ns) {
        if (d % n !== 0) continue;
        const a = rand([n, n, n]) as tf.Tensor3D;
        const s = rand([n, d / n, d / n]) as tf.Tensor3D;
        const phm = (path: PhmPath, order?: PhmOrder) => measure((xx, aa, ss) => phmMatMul(xx, aa as tf.Tensor3D, ss as tf.Tensor3D, path, order), [a, s]);
        const mat = phm('materialized');
        const fac = phm('factored', 'mix-first');
        const alt = phm('factored', 'contract-first');
        const auto = phm('auto');
        const t = torch?.get(`${d},${n},${batch}`);
        for (const [pass, k] of [['forward', 'fwd'], ['forward+backward', 'both']] as const) {
          rows.push({
            pass,
            d,
            n,
            batch,
            backend: info.device ? `${info.backend} (${info.device})` : info.backend,
            dense_ms: round(dense[k]),
            phm_materialized_ms: round(mat[k]),
            phm_factored_ms: round(fac[k]),
            phm_factored_contract_first_ms: round(alt[k]),
            phm_auto_ms: round(auto[k]),
            auto_path: choosePhmPath(batch, n),
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

const COLUMNS: (keyof PhmBenchRow)[] = ['pass', 'd', 'n', 'batch', 'dense_ms', 'phm_materialized_ms', 'phm_factored_ms', 'phm_factored_contract_first_ms', 'phm_auto_ms', 'auto_path', 'torch_dense_ms', 'torch_phm_factored_ms'];

export async function benchPhm(ctx: { json: boolean; out: (line: string) => void }): Promise<void> {
  const rows = await runPhmBench();
  if (ctx.json) {
    for (const r of rows) ctx.out(JSON.stringify(r));
    return;
  }
  ctx.out(`PHM dense y = x·W, d = k, times in ms (fastest of ≥ 3 runs); backend ${rows[0]?.backend ?? '?'}`);
  if (rows.every((r) => r.torch_dense_ms === null)) ctx.out('torch columns empty: /usr/bin/python3 with torch (Debian python3-torch) not found');
  ctx.out(table(COLUMNS.map(String), rows.map((r) => COLUMNS.map((c) => (r[c] === null ? '–' : (r[c] as string | number))))));
}
