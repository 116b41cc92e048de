// `lmsweep bench train`: training speed of the PTB LSTM LM (tokens/s of runTrial's training steps
// after warm-up) on every TensorFlow.js backend that loads, and the same step in PyTorch (Debian's
// python3-torch, /usr/bin/python3, one torch thread with OpenBLAS's own threads) in the same run,
// as the ratio tfjs/torch. Also validation perplexity after a fixed token budget for both, with the
// same hyperparameters on the same tokens, so a faster step that learns worse is caught.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrialConfig } from '@lmsweep/protocol';
import { BACKENDS, type BackendName, datasetSearchDirs, loadCorpus, nativeKernelsBuilt, resolveDataset, runTrial, selectBackend } from '@lmsweep/nn';
import { table } from '../format.ts';
import { parseOptions } from '../options.ts';
import { TRAIN_BENCH } from './options.ts';

export interface TrainBenchRow {
  /** The backend, 'wasm+native' for wasm with the native kernels. */
  backend: string;
  /** selectBackend's description of it (threads, SIMD). */
  device: string;
  vocab: number;
  hidden: number;
  layers: number;
  batch: number;
  unroll: number;
  /**
   * Training tokens per second of the median timed step (after the warm-up steps): on a shared
   * machine the median is least moved by other processes' bursts.
   */
  tokens_per_s: number;
  /** Tokens per second over all timed steps together. */
  mean_tokens_per_s: number;
  /** Steps timed for tokens_per_s. */
  timed_steps: number;
  torch_tokens_per_s: number | null;
  torch_mean_tokens_per_s: number | null;
  /** tokens_per_s / torch_tokens_per_s. */
  ratio: number | null;
  /** Validation perplexity after budget_tokens training tokens (null where the run was capped: cpu). */
  valid_ppl: number | null;
  torch_valid_ppl: number | null;
  /** Training tokens before the perplexity (steps × batch × unroll). */
  budget_tokens: number;
  note?: string;
}

export interface TrainBenchOptions {
  vocab?: number;
  hidden?: number;
  /** Embedding width (default: hidden). */
  embedding?: number;
  layers?: number;
  batch?: number;
  unroll?: number;
  /** Training tokens before the validation perplexity (rounded up to whole steps). */
  budgetTokens?: number;
  /** Steps timed for tokens/s after the warm-up (default: every step of the budget run after the warm-up). */
  steps?: number;
  /** Steps not timed. */
  warmup?: number;
  /** Validation tokens evaluated (the first N). */
  evalTokens?: number;
  /** Steps of the pure-JS cpu backend (≈ 20 s each at PTB-small): warm-up 1, then the rest timed; 0 skips it. */
  cpuSteps?: number;
  /** Backends to try (default every one); those that do not load are skipped. */
  backends?: BackendName[];
  /** Threads of the wasm backend: the native kernels' where they load, else XNNPACK's (default: selectBackend's). */
  wasmThreads?: number;
  /** true: wasm only with the native kernels; false: only without; absent: both, where they were built. */
  native?: boolean;
  torch?: boolean;
  dataset?: string;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

interface TorchResult {
  tokens_per_s: number | null;
  mean_tokens_per_s: number | null;
  valid_ppl: number;
  train_loss: number;
  torch_version: string;
}

export const TORCH_INSTALL_HINT = 'apt-get install python3-torch libopenblas0-pthread';
const PYTHON = '/usr/bin/python3';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function runTrainBench(opts: TrainBenchOptions = {}): Promise<{ rows: TrainBenchRow[]; notes: string[] }> {
  const vocab = opts.vocab ?? 10000;
  const hidden = opts.hidden ?? 200;
  const embedding = opts.embedding ?? hidden;
  const layers = opts.layers ?? 2;
  const batch = opts.batch ?? 20;
  const unroll = opts.unroll ?? 20;
  const warmup = opts.warmup ?? 2;
  const tokensPerStep = batch * unroll;
  const budgetSteps = Math.max(1, Math.ceil((opts.budgetTokens ?? 40_000) / tokensPerStep));
  const timed = opts.steps ?? Math.max(1, budgetSteps - warmup);
  // One run per backend does both: its steps are timed after the warm-up, then it is evaluated.
  const runSteps = Math.max(budgetSteps, warmup + timed);
  const evalTokens = opts.evalTokens ?? 20_000;
  const cpuSteps = opts.cpuSteps ?? 2;
  const log = opts.log ?? (() => {});
  const notes: string[] = [];

  const dir = resolveDataset(opts.dataset ?? 'ptb', datasetSearchDirs());
  const corpus = await loadCorpus(dir, { vocabSize: vocab });
  const V = corpus.vocab.length;
  const base = {
    dataset: { name: opts.dataset ?? 'ptb', vocabSize: vocab },
    model: { embedding, hidden, layers, dropout: 0, initScale: 0.1 },
    training: { batchSize: batch, unroll, lr: 1, clip: 5, optimizer: 'sgd', epochs: 1 },
  };

  let torch: TorchResult | undefined;
  if (opts.torch !== false) {
    log(`torch: ${runSteps} steps, then ${Math.min(evalTokens, corpus.valid.length)} valid tokens…`);
    const r = torchRun({
      train: corpus.train,
      valid: corpus.valid.subarray(0, evalTokens),
      cfg: { vocab: V, embedding, hidden, layers, batch, unroll, lr: 1, clip: 5, init: 0.1, steps: runSteps, warmup, eos: corpus.vocab.indexOf('<eos>'), eval_batch: 20, eval_unroll: 35, seed: 0 },
    });
    if (typeof r === 'string') notes.push(r);
    else torch = r;
  }

  const rows: TrainBenchRow[] = [];
  // wasm twice where the native kernels were built: with them (what workers run) and without.
  const runs: { name: BackendName; label: string; native?: boolean }[] = [];
  for (const name of opts.backends ?? BACKENDS) {
    if (name !== 'wasm') runs.push({ name, label: name });
    else {
      if (opts.native !== false && nativeKernelsBuilt()) runs.push({ name, label: 'wasm+native', native: true });
      if (opts.native !== true) runs.push({ name, label: 'wasm', native: false });
    }
  }
  for (const { name, label, native } of runs) {
    if (name === 'cpu' && cpuSteps <= 0) continue;
    let device: string;
    try {
      device = (await selectBackend(name, { ...(opts.wasmThreads ? { wasmThreads: opts.wasmThreads } : {}), ...(native !== undefined ? { native } : {}) })).device;
    } catch (e) {
      log(`${label}: does not load (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`);
      continue;
    }
    const capped = name === 'cpu';
    const steps = capped ? cpuSteps : runSteps;
    const warm = capped ? Math.min(1, steps - 1) : warmup;
    log(`${label} (${device}): ${steps} steps${capped ? ' (capped: the pure-JS backend is ≈ 20 tok/s)' : ''}…`);
    const config = TrialConfig.parse({ ...base, budget: { maxSteps: steps, evalTokens: capped ? 35 : evalTokens } });
    // Step times from one progress report to the next (the first from the start of runTrial,
    // which includes building the model: a warm-up step).
    const stepMs: number[] = [];
    let last = performance.now();
    const r = await runTrial({
      config,
      seed: 0,
      corpus,
      onProgress: (p) => {
        const now = performance.now();
        if (p.step > warm) stepMs.push(now - last);
        last = now;
      },
    });
    const tps = tokensPerStep / (median(stepMs) / 1000);
    const meanTps = (stepMs.length * tokensPerStep) / (stepMs.reduce((a, b) => a + b, 0) / 1000);
    const torchTps = torch?.tokens_per_s ?? null;
    rows.push({
      backend: label,
      device,
      vocab: V,
      hidden,
      layers,
      batch,
      unroll,
      tokens_per_s: round(tps),
      mean_tokens_per_s: round(meanTps),
      timed_steps: steps - warm,
      torch_tokens_per_s: torchTps === null ? null : round(torchTps),
      torch_mean_tokens_per_s: torch?.mean_tokens_per_s == null ? null : round(torch.mean_tokens_per_s),
      ratio: torchTps ? round(tps / torchTps, 3) : null,
      valid_ppl: capped ? null : round(r.validPpl, 2),
      torch_valid_ppl: torch && !capped ? round(torch.valid_ppl, 2) : null,
      budget_tokens: capped ? steps * tokensPerStep : runSteps * tokensPerStep,
    });
    const rowNotes = [...(capped ? [`capped at ${steps} steps (${warm} warm-up): no perplexity`] : []), ...notes];
    if (rowNotes.length) rows[rows.length - 1]!.note = rowNotes.join('; ');
  }
  return { rows, notes };
}

/** The environment without thread-count overrides: OpenBLAS picks its own threads (torch's are set to 1 in the script). */
function torchEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'GOTO_NUM_THREADS', 'MKL_NUM_THREADS']) delete env[k];
  return env;
}

/** Runs train-torch.py; a note (string) instead of a result when torch or the script is missing or fails. */
function torchRun(input: { train: Int32Array; valid: Int32Array; cfg: Record<string, number> }): TorchResult | string {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'train-torch.py');
  if (!existsSync(PYTHON)) return `torch columns empty: ${PYTHON} not found (${TORCH_INSTALL_HINT})`;
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    return `torch columns empty: ${PYTHON} cannot import torch (${TORCH_INSTALL_HINT})`;
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-bench-train-'));
  try {
    const train = path.join(tmp, 'train.i32');
    const valid = path.join(tmp, 'valid.i32');
    writeFileSync(train, new Uint8Array(input.train.buffer, input.train.byteOffset, input.train.byteLength));
    writeFileSync(valid, new Uint8Array(input.valid.buffer, input.valid.byteOffset, input.valid.byteLength));
    const out = execFileSync(PYTHON, [script, JSON.stringify({ ...input.cfg, train, valid })], { encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'], env: torchEnv() });
    const line = out.trim().split('\n').pop() ?? '';
    return JSON.parse(line) as TorchResult;
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    const why = (err.stderr || err.message || String(e)).trim().split('\n').pop();
    return `torch columns empty: train-torch.py failed: ${why}`;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const COLUMNS: (keyof TrainBenchRow)[] = ['backend', 'device', 'vocab', 'hidden', 'layers', 'batch', 'unroll', 'tokens_per_s', 'torch_tokens_per_s', 'ratio', 'mean_tokens_per_s', 'torch_mean_tokens_per_s', 'valid_ppl', 'torch_valid_ppl', 'budget_tokens', 'timed_steps'];

const BACKEND_SET = new Set<string>(BACKENDS);

export async function benchTrain(ctx: { json: boolean; out: (line: string) => void; args: string[] }): Promise<void> {
  const { values } = parseOptions({ options: TRAIN_BENCH.options }, ctx.args);
  const int = (k: 'vocab' | 'hidden' | 'embedding' | 'layers' | 'batch' | 'unroll' | 'steps' | 'budget-tokens' | 'eval-tokens' | 'cpu-steps' | 'wasm-threads') => values[k];
  const backends = typeof values.backends === 'string' ? values.backends.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  for (const b of backends ?? []) if (!BACKEND_SET.has(b)) throw new Error(`--backends: unknown backend "${b}" (expected ${BACKENDS.join(', ')})`);
  const { rows, notes } = await runTrainBench({
    vocab: int('vocab'),
    hidden: int('hidden'),
    embedding: int('embedding'),
    layers: int('layers'),
    batch: int('batch'),
    unroll: int('unroll'),
    steps: int('steps'),
    budgetTokens: int('budget-tokens'),
    evalTokens: int('eval-tokens'),
    cpuSteps: int('cpu-steps'),
    backends: backends as BackendName[] | undefined,
    wasmThreads: int('wasm-threads') || undefined,
    native: values.native === 'on' ? true : values.native === 'off' ? false : undefined,
    torch: values['no-torch'] !== true,
    log: ctx.json ? undefined : (line) => process.stderr.write(`${line}\n`),
  });
  if (ctx.json) {
    for (const r of rows) ctx.out(JSON.stringify(r));
    return;
  }
  ctx.out('LSTM LM training on PTB (SGD lr 1, clip 5, init ±0.1, no dropout); tokens/s of the median training step after warm-up (mean_: over all timed steps); valid ppl after budget_tokens');
  for (const n of notes) ctx.out(n);
  ctx.out(table(COLUMNS.map(String), rows.map((r) => COLUMNS.map((c) => (r[c] === null || r[c] === undefined ? '–' : (r[c] as string | number))))));
  for (const r of rows) if (r.note && r.backend === 'cpu') ctx.out(`cpu: ${r.note.split('; ')[0]}`);
}
