// `lmsweep bench train`: training speed of the PTB LSTM LM, or of the Transformer LM with --arch
// transformer (tokens/s of runTrial's training steps after warm-up) on every TensorFlow.js backend
// that loads, and the same model's step in PyTorch (Debian's
// python3-torch, /usr/bin/python3, one torch thread with OpenBLAS's own threads; a Transformer also at
// every thread, the faster kept) in the same run,
// as the ratio tfjs/torch. Also validation perplexity after a fixed token budget for both, with the
// same hyperparameters on the same tokens, so a faster step that learns worse is caught. After each
// backend's dense run, the compression trials a sweep runs from it (its checkpoint compressed by
// svd and groupreduce at rate 5, embedding and softmax, then fine-tuned the same budget), with
// their tokens/s as a ratio to the dense model's in the same run. CPU threads default to a
// worker's (every core: maxUsefulWasmThreads).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Architecture, COMPRESSION_METHODS, type CompressionMethodName, TrialConfig, type TrialResult } from '@lmsweep/protocol';
import { BACKENDS, type BackendName, type Corpus, datasetSearchDirs, loadCorpus, maxUsefulWasmThreads, nativeKernelsBuilt, resolveDataset, runTrial, selectBackend } from '@lmsweep/nn';
import { table } from '../format.ts';
import { parseOptions, UsageError } from '../options.ts';
import { TRAIN_BENCH } from './options.ts';

export interface TrainBenchRow {
  /** The backend, 'wasm+native' for wasm with the native kernels. */
  backend: string;
  arch: Architecture;
  /** 'dense', or the compression trial fine-tuned from that backend's dense model: 'svd rate 5', 'groupreduce rate 5, 10 blocks'. */
  model: string;
  /** Trainable parameters. */
  params: number;
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
  /** tokens_per_s / torch_tokens_per_s (dense rows; PyTorch trains the dense model only). */
  ratio: number | null;
  /** tokens_per_s / the same backend's dense row's tokens_per_s, measured in this run (1 for the dense row). */
  vs_dense: number | null;
  /** Validation perplexity after budget_tokens training tokens (null where the run was capped: cpu). */
  valid_ppl: number | null;
  torch_valid_ppl: number | null;
  /** Training tokens before the perplexity (steps × batch × unroll). */
  budget_tokens: number;
  note?: string;
}

export interface TrainBenchOptions {
  /** lstm (default: SGD lr 1, Zaremba's loss) or transformer (Adam lr 0.001 on the per-token mean; heads, ffn). */
  arch?: Architecture;
  heads?: number;
  ffn?: number;
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
  /** Threads of the wasm backend: the native kernels' where they load, else XNNPACK's (default: a worker's, maxUsefulWasmThreads()). */
  wasmThreads?: number;
  /** Compression methods fine-tuned from each backend's dense model (default svd, groupreduce; [] for none). */
  compressed?: CompressionMethodName[];
  /** Their compression rate (default 5; blocks and iterations: the spec's defaults). */
  rate?: number;
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
  const arch = opts.arch ?? 'lstm';
  const transformer = arch === 'transformer';
  const heads = opts.heads ?? 4;
  const ffn = opts.ffn ?? 4 * hidden;
  const optimizer = transformer ? 'adam' : 'sgd';
  const lr = transformer ? 0.001 : 1;
  const base = {
    dataset: { name: opts.dataset ?? 'ptb', vocabSize: vocab },
    model: transformer ? { arch, embedding: hidden, hidden, layers, heads, ffn, dropout: 0, initScale: 0.1 } : { embedding, hidden, layers, dropout: 0, initScale: 0.1 },
    training: { batchSize: batch, unroll, lr, clip: 5, optimizer, epochs: 1 },
  };

  let torch: TorchResult | undefined;
  if (opts.torch !== false) {
    // torch's own threads: 1 for the LSTM (OpenBLAS keeps its own: the fastest there). The
    // Transformer's layer norms, softmax and GELU are torch's, so it runs at 1 and at the threads
    // lmsweep's kernels get, and the faster is the reference (here 2 intra-op threads ran 2.5×
    // slower than 1: its OpenMP pool and OpenBLAS's threads fight over two cores).
    const threads = opts.wasmThreads ?? maxUsefulWasmThreads();
    const tries = transformer && threads > 1 ? [1, threads] : [1];
    const tried: string[] = [];
    for (const torchThreads of tries) {
      log(`torch (${torchThreads} thread${torchThreads > 1 ? 's' : ''}): ${runSteps} steps, then ${Math.min(evalTokens, corpus.valid.length)} valid tokens…`);
      const r = torchRun({
        train: corpus.train,
        valid: corpus.valid.subarray(0, evalTokens),
        // a Transformer reads each window alone: evaluation windows are its context (runTrial's too)
        cfg: { arch, vocab: V, embedding, hidden, layers, heads, ffn, batch, unroll, optimizer, lr, clip: 5, init: 0.1, steps: runSteps, warmup, eos: corpus.vocab.indexOf('<eos>'), eval_batch: 20, eval_unroll: transformer ? unroll : 35, seed: 0, torch_threads: torchThreads },
      });
      if (typeof r === 'string') {
        notes.push(r);
        break;
      }
      tried.push(`${torchThreads} thread${torchThreads > 1 ? 's' : ''} ${round(r.tokens_per_s ?? 0)} tokens/s`);
      if (!torch || (r.tokens_per_s ?? 0) > (torch.tokens_per_s ?? 0)) torch = r;
    }
    if (tried.length > 1) notes.push(`torch ran at ${tried.join(', ')}: the torch columns are the faster`);
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
  const wasmThreads = opts.wasmThreads ?? maxUsefulWasmThreads();
  const compressed = opts.compressed ?? ['svd', 'groupreduce'];
  const rate = opts.rate ?? 5;
  for (const { name, label, native } of runs) {
    if (name === 'cpu' && cpuSteps <= 0) continue;
    let device: string;
    try {
      device = (await selectBackend(name, { wasmThreads, ...(native !== undefined ? { native } : {}) })).device;
    } catch (e) {
      log(`${label}: does not load (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`);
      continue;
    }
    const capped = name === 'cpu';
    const steps = capped ? cpuSteps : runSteps;
    const warm = capped ? Math.min(1, steps - 1) : warmup;
    log(`${label} (${device}): ${steps} steps${capped ? ' (capped: the pure-JS backend is ≈ 20 tok/s)' : ''}…`);
    const config = TrialConfig.parse({ ...base, budget: { maxSteps: steps, evalTokens: capped ? 35 : evalTokens } });
    const torchTps = torch?.tokens_per_s ?? null;
    const row = (model: string, t: TimedTrial, denseTps?: number): TrainBenchRow => ({
      backend: label,
      arch,
      model,
      params: t.result.params,
      device,
      vocab: V,
      hidden,
      layers,
      batch,
      unroll,
      tokens_per_s: round(t.tps),
      mean_tokens_per_s: round(t.meanTps),
      timed_steps: steps - warm,
      torch_tokens_per_s: torchTps === null || denseTps ? null : round(torchTps),
      torch_mean_tokens_per_s: torch?.mean_tokens_per_s == null || denseTps ? null : round(torch.mean_tokens_per_s),
      ratio: torchTps && !denseTps ? round(t.tps / torchTps, 3) : null,
      vs_dense: round(t.tps / (denseTps ?? t.tps), 3),
      valid_ppl: capped ? null : round(t.result.validPpl, 2),
      torch_valid_ppl: torch && !capped && !denseTps ? round(torch.valid_ppl, 2) : null,
      budget_tokens: capped ? steps * tokensPerStep : runSteps * tokensPerStep,
      ...(capped || notes.length ? { note: [...(capped ? [`capped at ${steps} steps (${warm} warm-up): no perplexity`] : []), ...notes].join('; ') } : {}),
    });
    if (capped || compressed.length === 0) {
      rows.push(row('dense', await timedTrial({ config, corpus, warm, tokensPerStep })));
      continue;
    }
    // The compression trials of a sweep start from a trained dense model: train it first (this
    // run is not timed; the same seed trains the same model again below).
    log(`${label} (${device}): the dense baseline, ${steps} steps…`);
    let checkpoint: Uint8Array | undefined;
    await runTrial({ config, seed: 0, corpus, onCheckpoint: async (c) => void (checkpoint = c) });
    // Then the dense model and its compressed fine-tunings (as long) side by side: their steps
    // interleave (each trial yields after every step), so a slow spell of the machine falls on
    // all of them, and each step's own time is taken (timedTrial).
    const trials = [
      { model: 'dense', config },
      ...compressed.map((method) => {
        const c = TrialConfig.parse({ ...base, method, compress: { target: 'both', rate, finetune: { maxSteps: steps, lr } }, budget: { maxSteps: steps, evalTokens } });
        return { model: method === 'svd' || method === 'weighted-svd' ? `${method} rate ${rate}` : `${method} rate ${rate}, ${c.compress!.blocks} blocks`, config: c };
      }),
    ];
    log(`${label}: ${trials.map((t) => t.model).join('; ')}: ${steps} steps each, interleaved…`);
    const done = await Promise.allSettled(trials.map((t) => timedTrial({ config: t.config, corpus, warm, tokensPerStep, ...(t.model === 'dense' ? {} : { baseline: { trialId: 'bench-dense', checkpoint: checkpoint! } }) })));
    const dense = done[0]!;
    if (dense.status === 'rejected') throw dense.reason;
    rows.push(row('dense', dense.value));
    done.slice(1).forEach((d, i) => {
      if (d.status === 'fulfilled') rows.push(row(trials[i + 1]!.model, d.value, dense.value.tps));
      else log(`${label}: ${trials[i + 1]!.model} failed: ${(d.reason instanceof Error ? d.reason.message : String(d.reason)).split('\n')[0]}`);
    });
  }
  return { rows, notes };
}

interface TimedTrial {
  result: TrialResult;
  /** Tokens/s of the median timed step, and over all timed steps. */
  tps: number;
  meanTps: number;
}

/**
 * runTrial with the own time of each step after the first `warm` (from its training-time total,
 * so neither evaluation nor another trial's steps in between count; a compression trial
 * compresses before its first step, untimed).
 */
async function timedTrial(o: { config: TrialConfig; corpus: Corpus; warm: number; tokensPerStep: number; baseline?: { trialId: string; checkpoint: Uint8Array } }): Promise<TimedTrial> {
  const stepMs: number[] = [];
  let trainMs = 0;
  const result = await runTrial({
    config: o.config,
    seed: 0,
    corpus: o.corpus,
    ...(o.baseline ? { baseline: o.baseline } : {}),
    onProgress: (p) => {
      const total = (1000 * p.step * o.tokensPerStep) / p.tokensPerSecond;
      if (p.step > o.warm) stepMs.push(total - trainMs);
      trainMs = total;
    },
  });
  const tps = o.tokensPerStep / (median(stepMs) / 1000);
  const meanTps = (stepMs.length * o.tokensPerStep) / (stepMs.reduce((a, b) => a + b, 0) / 1000);
  return { result, tps, meanTps };
}

/** The environment without thread-count overrides: OpenBLAS picks its own threads (torch's are set in the script). */
function torchEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'GOTO_NUM_THREADS', 'MKL_NUM_THREADS']) delete env[k];
  return env;
}

/** Runs train-torch.py; a note (string) instead of a result when torch or the script is missing or fails. */
function torchRun(input: { train: Int32Array; valid: Int32Array; cfg: Record<string, number | string> }): TorchResult | string {
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

const COLUMNS: (keyof TrainBenchRow)[] = ['backend', 'arch', 'model', 'params', 'device', 'vocab', 'hidden', 'layers', 'batch', 'unroll', 'tokens_per_s', 'vs_dense', 'torch_tokens_per_s', 'ratio', 'mean_tokens_per_s', 'torch_mean_tokens_per_s', 'valid_ppl', 'torch_valid_ppl', 'budget_tokens', 'timed_steps'];

const BACKEND_SET = new Set<string>(BACKENDS);

export async function benchTrain(ctx: { json: boolean; out: (line: string) => void; args: string[] }): Promise<void> {
  const { values } = parseOptions({ options: TRAIN_BENCH.options }, ctx.args);
  const int = (k: 'vocab' | 'hidden' | 'heads' | 'ffn' | 'embedding' | 'layers' | 'batch' | 'unroll' | 'steps' | 'budget-tokens' | 'eval-tokens' | 'cpu-steps' | 'wasm-threads') => values[k];
  const arch = (values.arch ?? 'lstm') as Architecture;
  if (arch === 'transformer') {
    const hidden = values.hidden ?? 200;
    if (values.embedding !== undefined && values.embedding !== hidden) throw new UsageError(`--embedding: a Transformer's embedding width is its model width --hidden (${hidden})`);
    if (hidden % (values.heads ?? 4) !== 0) throw new UsageError(`--heads: ${values.heads ?? 4} heads do not divide the model width --hidden ${hidden}`);
  } else {
    for (const k of ['heads', 'ffn'] as const) if (values[k] !== undefined) throw new UsageError(`--${k}: only with --arch transformer`);
  }
  const compressed = values.compressed?.split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
  for (const m of compressed ?? []) if (!(COMPRESSION_METHODS as readonly string[]).includes(m)) throw new UsageError(`--compressed: unknown method "${m}" (expected none or ${COMPRESSION_METHODS.join(', ')})`);
  const rate = values.rate;
  const backends = typeof values.backends === 'string' ? values.backends.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  for (const b of backends ?? []) if (!BACKEND_SET.has(b)) throw new Error(`--backends: unknown backend "${b}" (expected ${BACKENDS.join(', ')})`);
  const { rows, notes } = await runTrainBench({
    arch,
    heads: int('heads'),
    ffn: int('ffn'),
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
    compressed: compressed as CompressionMethodName[] | undefined,
    rate,
    torch: values['no-torch'] !== true,
    log: ctx.json ? undefined : (line) => process.stderr.write(`${line}\n`),
  });
  if (ctx.json) {
    for (const r of rows) ctx.out(JSON.stringify(r));
    return;
  }
  ctx.out(`${arch === 'transformer' ? 'Transformer LM training on PTB (Adam lr 0.001, clip 5, init ±0.1, no dropout)' : 'LSTM LM training on PTB (SGD lr 1, clip 5, init ±0.1, no dropout)'}; tokens/s of the median training step after warm-up (mean_: over all timed steps); valid ppl after budget_tokens`);
  ctx.out('compressed rows: that backend\'s dense model compressed (embedding and softmax), then fine-tuned budget_tokens; vs_dense = their tokens/s over the dense row\'s, same run');
  for (const n of notes) ctx.out(n);
  ctx.out(table(COLUMNS.map(String), rows.map((r) => COLUMNS.map((c) => (r[c] === null || r[c] === undefined ? '–' : (r[c] as string | number))))));
  for (const r of rows) if (r.note && r.backend === 'cpu') ctx.out(`cpu: ${r.note.split('; ')[0]}`);
}
