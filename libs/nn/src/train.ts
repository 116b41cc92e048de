// Training and evaluation of one trial: truncated BPTT on the train stream, perplexity on valid/test.
import * as tf from '@tensorflow/tfjs-core';
import { archOf, baselineConfigOf, finetuneOptionsOf, FinetuneOptions, isCompressionMethod, type MetricPoint, resolveConfig, startsFromBaseline, type TrialConfig, type TrialResult } from '@lmsweep/protocol';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.ts';
import { checkpointMetadata, compressCheckpointMatrices, readCheckpointInfo, trainFrequencies, vocabDigest } from './compress-model.ts';
import { currentBackend, selectBackend, type BackendPreference } from './backend.ts';
import { EOS, LmBatches, type Corpus } from './corpus.ts';
import { createLanguageModel, type LanguageModel, languageModelFromWeights, languageModelParamCount } from './language-model.ts';
import { disposeState, type LstmState } from './lm-parts.ts';
import { createRng, type Rng, rngFromState } from './random.ts';
import { canonicalJson, corpusDigest, decodeResumeCheckpoint, encodeResumeCheckpoint, type ResumeIdentity, ResumeCheckpointError, type ResumeState, resumeSlots, type StoredCompression, type TrainerState } from './resume.ts';
import { native } from './native.ts';
import { fillTensor, heapAccess, view } from './wasm-heap.ts';

/**
 * The loss became NaN or ±Infinity (or the gradient norm, or an evaluated perplexity did).
 * Not worth retrying with the same seed.
 */
export class DivergedError extends Error {
  constructor(
    readonly step: number,
    readonly loss: number,
    what = 'loss',
  ) {
    super(`training diverged at step ${step}: ${what} is ${loss}`);
    this.name = 'DivergedError';
  }
}

/** The trial's config cannot run as given (e.g. a compression rate its method cannot meet): another attempt would fail the same way. */
export class TrialConfigError extends Error {
  override name = 'TrialConfigError';
}

/** The caller's AbortSignal fired; the trial stopped at a step boundary. */
export class AbortedError extends Error {
  constructor(
    readonly step: number,
    readonly reason?: unknown,
  ) {
    super(`trial aborted at step ${step}${reason instanceof Error ? `: ${reason.message}` : typeof reason === 'string' ? `: ${reason}` : ''}`);
    this.name = 'AbortedError';
  }
}

export interface TrialProgress {
  /** Optimizer steps done. */
  step: number;
  totalSteps: number;
  /** step / totalSteps. */
  progress: number;
  /** Training tokens per second of training time so far. */
  tokensPerSecond: number;
  /**
   * Estimated seconds left: the remaining training steps at the rate so far, plus the remaining
   * evaluations at an assumed 3× the training rate (a forward pass costs about a third of a step).
   */
  etaSeconds: number;
  /** Per-token mean NLL of the last step. */
  trainLoss: number;
}

export interface RunTrialOptions {
  config: TrialConfig;
  seed: number;
  corpus: Corpus;
  signal?: AbortSignal;
  onProgress?: (p: TrialProgress) => void;
  /** Batches of metric points (train_loss and lr every few steps, valid_ppl and test_ppl); awaited. */
  onMetrics?: (points: MetricPoint[]) => void | Promise<void>;
  /** Backend to select first ('wasm', 'cpu', …); absent: the current one, or selectBackend('auto') if none. */
  backend?: string;
  /** Rows evaluated in parallel (default 20). */
  evalBatchSize?: number;
  /** A compression method's (or the control's) starting point: its baseline trial and that trial's checkpoint (encodeCheckpoint bytes). */
  baseline?: { trialId: string; checkpoint: Uint8Array };
  /** Called with the trained model's checkpoint (encodeCheckpoint bytes) after the final evaluation; awaited. */
  onCheckpoint?: (checkpoint: Uint8Array) => Promise<void>;
  /**
   * Continue a paused trial from its resume checkpoint (PauseOptions.onCheckpoint's bytes) instead
   * of starting it: weights, optimizer state, the dropout stream, the LSTM state and data position,
   * the step counter (and so the learning-rate schedule) and the metric bookkeeping (the
   * fine-tuning's best point) are restored, and training continues at the next step. The config,
   * seed and corpus must be the paused trial's (ResumeCheckpointError otherwise). A resumed
   * compression trial needs no `baseline`: its compressed model is in the checkpoint.
   */
  resume?: { checkpoint: Uint8Array };
}

/** What PauseOptions.at sees after a step. */
export interface PausePoint {
  /** Per-token mean NLL of the step just done. */
  trainLoss: number;
  /** The last validation point (the fine-tuning's step-0 one counts), if any was measured yet. */
  lastValid?: { step: number; validPpl: number };
}

/** Stopping a trial at a step boundary with its whole training state kept (resume checkpoints, resume.ts). */
export interface PauseOptions {
  /**
   * Asked after every step before the last (after that step's validation, if it has one, and
   * after its metric points went to onMetrics, so a judge elsewhere can see them): true pauses
   * the trial there. `step` counts the steps done. A promise is awaited: the trial waits for
   * the answer (a coordinator's verdict) before it trains on.
   */
  at: (step: number, point: PausePoint) => boolean | Promise<boolean>;
  /** Receives the resume checkpoint (RunTrialOptions.resume takes it back); awaited before runTrial returns. */
  onCheckpoint: (checkpoint: Uint8Array, paused: TrialPaused) => Promise<void>;
}

/** runTrial's answer when PauseOptions.at paused the trial: where it stands. */
export interface TrialPaused {
  paused: true;
  /** Steps done; the resumed run continues with the next. */
  step: number;
  totalSteps: number;
  epoch: number;
  /** The last train_loss point reported, or the last step's loss when none was yet. */
  trainLoss: number;
  lastValid?: { step: number; validPpl: number };
  /** Fine-tuning: its best validation point so far. */
  best?: { step: number; validPpl: number };
  /** Wall seconds so far (earlier runs of this trial included), and training tokens per second of training time. */
  seconds: number;
  tokensPerSecond: number;
  backend: string;
}

export const isPaused = (r: TrialResult | TrialPaused): r is TrialPaused => 'paused' in r && r.paused === true;

export interface TrainingPlan {
  /** Windows of batchSize × unroll tokens in one pass over the train stream. */
  stepsPerEpoch: number;
  /** Steps this trial takes: epochs, cut by budget.maxSteps and budget.maxTokens. */
  totalSteps: number;
  tokensPerStep: number;
}

/**
 * The training settings of a compression trial's (or the control's) fine-tuning on a train split
 * of trainTokens tokens: the trial's training, with the fine-tuning's epochs and lr (absent: the
 * baseline's final rate, baselineFinalLr), finetune.maxSteps as the only step budget and
 * finetune.evalEvery (absent: budget.evalEvery) as the validation interval.
 */
export function finetuneConfig(config: TrialConfig, trainTokens: number): TrialConfig {
  const ft = finetuneOptionsOf(config) ?? FinetuneOptions.parse({});
  const budget = { ...config.budget, maxSteps: ft.maxSteps, maxTokens: undefined, evalEvery: ft.evalEvery ?? config.budget.evalEvery };
  return { ...config, training: { ...config.training, epochs: ft.epochs, lr: ft.lr ?? baselineFinalLr(config, trainTokens) }, budget };
}

/**
 * The learning rate a trial's baseline (same model, training and budget, method dense) took its
 * last step at, on a train split of trainTokens tokens: learningRate() in that step's epoch.
 * Zaremba's schedule (lr 1, halved every epoch from the 5th, 13 epochs) ends at 1/2⁹.
 */
export function baselineFinalLr(config: TrialConfig, trainTokens: number): number {
  const base = baselineConfigOf(config);
  const { stepsPerEpoch, totalSteps } = trainingPlan(base, trainTokens);
  return learningRate(base.training, Math.floor((totalSteps - 1) / stepsPerEpoch));
}

/** How many multiples of every (≥ 1) lie in (after, before). */
const multiplesBetween = (after: number, before: number, every: number) => Math.max(0, Math.floor((before - 1) / every) - Math.floor(after / every));

/** How many steps a config trains on a train stream of trainTokens tokens (0 only for fine-tuning that is switched off). */
export function trainingPlan(config: TrialConfig, trainTokens: number): TrainingPlan {
  const { batchSize, unroll, epochs } = config.training;
  const stepsPerEpoch = Math.max(0, Math.floor((Math.floor(trainTokens / batchSize) - 1) / unroll));
  if (stepsPerEpoch === 0) {
    throw new Error(`the train split (${trainTokens} tokens) is too short for batchSize ${batchSize} × unroll ${unroll}: need at least ${batchSize * (unroll + 1)} tokens`);
  }
  const tokensPerStep = batchSize * unroll;
  const none = startsFromBaseline(config.method) && (epochs === 0 || config.budget.maxSteps === 0);
  let totalSteps = none ? 0 : Math.max(1, Math.ceil(epochs * stepsPerEpoch - 1e-9));
  if (config.budget.maxSteps !== undefined) totalSteps = Math.min(totalSteps, config.budget.maxSteps);
  if (config.budget.maxTokens !== undefined) totalSteps = Math.min(totalSteps, Math.max(1, Math.ceil(config.budget.maxTokens / tokensPerStep)));
  return { stepsPerEpoch, totalSteps, tokensPerStep };
}

/**
 * Learning rate in epoch `epoch` (0-based): lr · lrDecay^k, k = completed epochs counted from
 * the ceil(decayStart)-th on (at least the first): decayStart 4 keeps epochs 0–3 at lr and runs
 * epoch 4 at lr·lrDecay (Zaremba's schedule).
 */
export function learningRate(training: TrialConfig['training'], epoch: number): number {
  const k = Math.max(0, epoch - Math.max(1, Math.ceil(training.decayStart)) + 1);
  return training.lr * training.lrDecay ** k;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface AdamState {
  t: number;
  m: Float32Array[];
  v: Float32Array[];
}

interface Optimizer {
  apply(grads: tf.NamedTensorMap, scale: number, lr: number): void;
  /** Adam's step count and moments (fresh arrays, in the variables' order); undefined for SGD, which keeps none. */
  state(): AdamState | undefined;
  dispose(): void;
}

function sgd(vars: tf.Variable[]): Optimizer {
  return {
    apply(grads, scale, lr) {
      const k = lr * scale;
      tf.tidy(() => {
        const nk = native();
        for (const v of vars) {
          const g = grads[v.name]!;
          if (nk) {
            v.assign(fillTensor(v.shape, (out) => nk.sgd(view(v), view(g), out, k)));
            continue;
          }
          // wasm: v − k·g in one JS pass over heap memory (no kernel calls); elsewhere tf ops
          const next = heapAccess()
            ? fillTensor(v.shape, (out) => {
                const [x, d] = [view(v), view(g)];
                for (let i = 0; i < out.length; i++) out[i] = x[i]! - k * d[i]!;
              })
            : tf.sub(v, tf.mul(g, k));
          v.assign(next);
        }
      });
    },
    state: () => undefined,
    dispose() {},
  };
}

/** Adam over vars, from zero moments or from `init` (a saved state). */
function adam(vars: tf.Variable[], init?: AdamState, beta1 = 0.9, beta2 = 0.999, eps = 1e-8): Optimizer {
  const slot = (v: tf.Variable, data: Float32Array | undefined) => {
    const z = data ? tf.tensor(data, v.shape, 'float32') : tf.zerosLike(v);
    const x = tf.variable(z, false);
    z.dispose();
    return x;
  };
  const m = vars.map((v, i) => slot(v, init?.m[i]));
  const s = vars.map((v, i) => slot(v, init?.v[i]));
  let t = init?.t ?? 0;
  return {
    apply(grads, scale, lr) {
      t++;
      const alpha = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      const nk = native();
      tf.tidy(() => {
        vars.forEach((v, i) => {
          const mi = m[i]!;
          const si = s[i]!;
          if (nk) {
            v.assign(fillTensor(v.shape, (out) => nk.adam(view(v), view(grads[v.name]!), view(mi), view(si), out, scale, alpha, beta1, beta2, eps)));
            return;
          }
          if (heapAccess()) {
            // wasm: one JS pass; the moments (private to the optimizer, never a matmul
            // operand, so no cached packing of them exists) are updated in place
            const next = fillTensor(v.shape, (out) => {
              const [x, d, mv, sv] = [view(v), view(grads[v.name]!), view(mi), view(si)];
              for (let j = 0; j < out.length; j++) {
                const g = d[j]! * scale;
                const mj = beta1 * mv[j]! + (1 - beta1) * g;
                const sj = beta2 * sv[j]! + (1 - beta2) * g * g;
                mv[j] = mj;
                sv[j] = sj;
                out[j] = x[j]! - (alpha * mj) / (Math.sqrt(sj) + eps);
              }
            });
            v.assign(next);
            return;
          }
          const g = tf.mul(grads[v.name]!, scale);
          mi.assign(tf.add(tf.mul(mi, beta1), tf.mul(g, 1 - beta1)));
          si.assign(tf.add(tf.mul(si, beta2), tf.mul(tf.square(g), 1 - beta2)));
          v.assign(tf.sub(v, tf.div(tf.mul(mi, alpha), tf.add(tf.sqrt(si), eps))));
        });
      });
    },
    state: () => ({ t, m: m.map((x) => Float32Array.from(x.dataSync() as Float32Array)), v: s.map((x) => Float32Array.from(x.dataSync() as Float32Array)) }),
    dispose() {
      for (const x of [...m, ...s]) x.dispose();
    },
  };
}

/** √(Σ over the tensors of Σ x²): a JS pass over heap memory on wasm (double accumulation), tf ops elsewhere. */
function globalNorm(ts: tf.Tensor[]): number {
  const nk = native();
  if (nk) return Math.sqrt(ts.reduce((acc, t) => acc + nk.sumSquares(view(t)), 0));
  if (heapAccess()) {
    let acc = 0;
    for (const t of ts) {
      const x = view(t);
      for (let i = 0; i < x.length; i++) acc += x[i]! * x[i]!;
    }
    return Math.sqrt(acc);
  }
  const normT = tf.tidy(() => tf.sqrt(tf.addN(ts.map((t) => tf.sum(tf.square(t))))));
  const norm = normT.dataSync()[0]!;
  normT.dispose();
  return norm;
}

function keepState(s: LstmState): LstmState {
  for (const t of [...s.h, ...s.c]) tf.keep(t);
  return s;
}

/** Runs the model on one window without gradients; returns Σ NLL and the next state (fresh tensors). */
function forwardNoGrad(model: LanguageModel, x: Int32Array, y: Int32Array, batch: number, state: LstmState): { nll: number; state: LstmState } {
  let next: LstmState | undefined;
  const lossSum = tf.tidy(() => {
    const r = model.forward(x, y, batch, state);
    next = keepState(r.state);
    return r.lossSum;
  });
  const nll = lossSum.dataSync()[0]!;
  lossSum.dispose();
  return { nll, state: next! };
}

export interface EvalOptions {
  /** Id of `<eos>`: the context before the first token. */
  eosId: number;
  /** Rows run in parallel (default 20). */
  batchSize?: number;
  /** Window length (default 35). */
  unroll?: number;
  signal?: AbortSignal;
  /** Step reported by an AbortedError. */
  step?: number;
}

/**
 * Perplexity exp(mean NLL) over every token of `tokens` (the first predicted from `<eos>`).
 * The stream is cut into up to batchSize contiguous rows, each starting from a zero state;
 * the remainder that does not fill a row continues the last row at batch 1, so no token is skipped.
 */
export async function evaluatePerplexity(model: LanguageModel, tokens: Int32Array, opts: EvalOptions): Promise<{ perplexity: number; meanNll: number; tokens: number }> {
  const n = tokens.length;
  if (n === 0) throw new Error('evaluatePerplexity: no tokens');
  const unroll = opts.unroll ?? model.context ?? 35;
  const rows = Math.max(1, Math.min(opts.batchSize ?? 20, Math.floor(n / unroll)));
  const rowLen = Math.floor(n / rows);
  const prev = (i: number) => (i === 0 ? opts.eosId : tokens[i - 1]!);
  let total = 0;
  let state = model.zeroState(rows);
  const run = async (starts: (b: number) => number, batch: number, length: number) => {
    for (let s = 0; s < length; s += unroll) {
      if (opts.signal?.aborted) throw new AbortedError(opts.step ?? 0, opts.signal.reason);
      const T = Math.min(unroll, length - s);
      const x = new Int32Array(T * batch);
      const y = new Int32Array(T * batch);
      for (let b = 0; b < batch; b++) {
        const base = starts(b) + s;
        for (let t = 0; t < T; t++) {
          x[t * batch + b] = prev(base + t);
          y[t * batch + b] = tokens[base + t]!;
        }
      }
      const r = forwardNoGrad(model, x, y, batch, state);
      disposeState(state);
      state = r.state;
      total += r.nll;
      await yieldToEventLoop();
    }
  };
  try {
    await run((b) => b * rowLen, rows, rowLen);
    const rest = n - rows * rowLen;
    if (rest > 0) {
      const last = rows - 1;
      const sliced: LstmState = {
        h: state.h.map((t) => tf.slice(t, [last, 0], [1, -1])),
        c: state.c.map((t) => tf.slice(t, [last, 0], [1, -1])),
      };
      disposeState(state);
      state = sliced;
      await run(() => rows * rowLen, 1, rest);
    }
  } finally {
    disposeState(state);
  }
  const meanNll = total / n;
  return { perplexity: Math.exp(meanNll), meanNll, tokens: n };
}

/** Copies of a model's variables (fresh arrays), for weightsRestore. */
function weightsSnapshot(model: LanguageModel): Float32Array[] {
  return model.variables.map((v) => Float32Array.from(v.dataSync() as Float32Array));
}

function weightsRestore(model: LanguageModel, snapshot: Float32Array[]): void {
  tf.tidy(() => model.variables.forEach((v, i) => v.assign(tf.tensor(snapshot[i]!, v.shape, 'float32'))));
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Trains one language-model trial (model.arch: the LSTM, or the Transformer with context
 * training.unroll) and evaluates it. SGD uses Zaremba's loss (Σ over the unroll, mean
 * over the batch); Adam the per-token mean. Global-norm clipping at training.clip; the rate decays
 * per learningRate(). An LSTM's hidden state carries across windows (detached) and resets each
 * epoch; a Transformer reads each window alone.
 * A trial that starts from its baseline (a compression method, or the dense-finetune control)
 * fine-tunes (finetuneConfig), evaluating validation before the first step, every evalEvery
 * steps, at each epoch's end and after the last step, and reports the best of these points (its
 * weights restored for the test evaluation and the checkpoint) with the last one beside it.
 * Yields to the event loop every step. Throws DivergedError on a NaN/Inf loss, gradient norm or perplexity,
 * AbortedError when `signal` fires; either way every tensor it made is disposed.
 * `seconds` is wall time including evaluation; `tokensPerSecond` counts training time only.
 *
 * With `pause`, the trial may stop after any step before the last (PauseOptions.at): its resume
 * checkpoint goes to pause.onCheckpoint and runTrial returns a TrialPaused. Another call with
 * `resume` (same config, seed and corpus; fresh objects, any process) continues it: with the same
 * backend and thread count the metric points of the two runs together are those of the trial run
 * straight through, bit for bit (the PHM 'auto' path is chosen per process by timing: pin
 * model.phm.path for that across workers).
 */
export function runTrial(opts: RunTrialOptions & { pause: PauseOptions }): Promise<TrialResult | TrialPaused>;
export function runTrial(opts: RunTrialOptions & { pause?: undefined }): Promise<TrialResult>;
export async function runTrial(opts: RunTrialOptions & { pause?: PauseOptions }): Promise<TrialResult | TrialPaused> {
  const { seed, corpus, signal } = opts;
  const config = resolveConfig(opts.config);
  const started = performance.now();
  if (opts.backend) await selectBackend(opts.backend as BackendPreference);
  else if (!currentBackend()) await selectBackend('auto');
  const backendName = currentBackend()?.backend ?? tf.getBackend();

  const vocab = corpus.vocab.length;
  const eosId = corpus.vocab.indexOf(EOS);
  if (eosId < 0) throw new Error(`the corpus vocabulary has no ${EOS}`);
  const compressing = isCompressionMethod(config.method);
  const fromBaseline = startsFromBaseline(config.method);
  if (fromBaseline && !opts.baseline && !opts.resume) throw new Error(`method ${config.method} ${compressing ? 'compresses' : 'fine-tunes'} a trained model: it needs its baseline trial's checkpoint (runTrial's baseline option)`);
  // A compression trial's (or the control's) training loop is its fine-tuning.
  const loopConfig = fromBaseline ? finetuneConfig(config, corpus.train.length) : config;
  const { batchSize: B, unroll: T, optimizer: optName, clip } = loopConfig.training;
  const plan = trainingPlan(loopConfig, corpus.train.length);
  const { stepsPerEpoch, totalSteps, tokensPerStep } = plan;
  const batches = new LmBatches(corpus.train, B, T);
  const modelConfig = config.model;
  const logEvery = Math.max(1, Math.min(10, Math.floor(totalSteps / 20)));
  const lossScale = optName === 'sgd' ? 1 / B : 1 / (B * T);
  const evalTokens = config.budget.evalTokens;
  const evalSplit = (s: Int32Array) => (evalTokens !== undefined && evalTokens < s.length ? s.subarray(0, evalTokens) : s);
  const evalEvery = loopConfig.budget.evalEvery;
  /** Whether validation is measured after `step` (before the last; the last always is). Fine-tuning adds every epoch's end. */
  const evalAfter = (step: number) => step < totalSteps && ((evalEvery !== undefined && step % evalEvery === 0) || (fromBaseline && step % stepsPerEpoch === 0));
  /** Validation runs still to come after `step`, before the final one. */
  const periodicLeft = (step: number) => {
    const every = multiplesBetween(step, totalSteps, evalEvery ?? Infinity);
    if (!fromBaseline) return every;
    const both = evalEvery === undefined ? 0 : multiplesBetween(step, totalSteps, (evalEvery / gcd(evalEvery, stepsPerEpoch)) * stepsPerEpoch);
    return every + multiplesBetween(step, totalSteps, stepsPerEpoch) - both;
  };
  /** Tokens still to evaluate after `step`: the periodic validation runs and the final valid + test. */
  const evalTokensLeft = (step: number) => periodicLeft(step) * evalSplit(corpus.valid).length + evalSplit(corpus.valid).length + evalSplit(corpus.test).length;

  // What a resume checkpoint belongs to (only computed when pausing or resuming: it hashes the corpus).
  const identity = (): ResumeIdentity => ({
    config: canonicalJson(config),
    seed,
    vocab,
    vocabSha256: vocabDigest(corpus.vocab),
    corpusSha256: corpusDigest(corpus),
    batchSize: B,
    hidden: modelConfig.hidden,
    layers: archOf(modelConfig) === 'transformer' ? 0 : modelConfig.layers,
  });
  const resumed: ResumeState | undefined = opts.resume ? decodeResumeCheckpoint(opts.resume.checkpoint, identity()) : undefined;
  const saved: TrainerState | undefined = resumed?.trainer;
  if (saved) {
    if (saved.totalSteps !== totalSteps || saved.stepsPerEpoch !== stepsPerEpoch || saved.optimizer !== optName) {
      throw new ResumeCheckpointError(`resume checkpoint: it plans ${saved.totalSteps} steps of ${saved.stepsPerEpoch} an epoch with ${saved.optimizer}, this trial ${totalSteps} of ${stepsPerEpoch} with ${optName}`);
    }
    if (fromBaseline && (!saved.before || !saved.best)) throw new ResumeCheckpointError('resume checkpoint: trainer.before and trainer.best are missing: a fine-tuning trial keeps its best validation point');
    if (opts.baseline && saved.baselineTrialId !== undefined && opts.baseline.trialId !== saved.baselineTrialId) {
      throw new ResumeCheckpointError(`resume checkpoint: it fine-tunes baseline trial ${saved.baselineTrialId}, not ${opts.baseline.trialId}`);
    }
  }
  const baselineTrialId = saved?.baselineTrialId ?? opts.baseline?.trialId;

  const pending: MetricPoint[] = [];
  const flush = async () => {
    if (pending.length === 0 || !opts.onMetrics) return void pending.splice(0);
    await opts.onMetrics(pending.splice(0));
  };
  const point = (step: number, name: string, value: number) => pending.push({ step, epoch: step / stepsPerEpoch, name, value });

  let model: LanguageModel | undefined;
  let optimizer: Optimizer | undefined;
  let state: LstmState | undefined;
  let compression: StoredCompression | undefined = saved?.compression;
  let factorizedParams: { embedding?: number; softmax?: number } | undefined = saved?.factorizedParams;
  try {
    if (resumed) {
      try {
        model = languageModelFromWeights(vocab, modelConfig, resumed.weights, { context: T });
      } catch (e) {
        throw new ResumeCheckpointError(`resume checkpoint: ${(e as Error).message}`);
      }
    } else if (fromBaseline) {
      // Start from the baseline's weights, with the target matrices compressed (the control: as they are).
      const ckpt = decodeCheckpoint(opts.baseline!.checkpoint);
      const info = readCheckpointInfo(ckpt, corpus.vocab);
      if (compressing) {
        const q = trainFrequencies(corpus.train, vocab);
        let c: ReturnType<typeof compressCheckpointMatrices>;
        try {
          c = compressCheckpointMatrices(ckpt.tensors, modelConfig, vocab, q, config.method as Parameters<typeof compressCheckpointMatrices>[4], config.compress!);
        } catch (e) {
          throw new TrialConfigError(`${config.method}: ${(e as Error).message}`);
        }
        model = createLanguageModel(vocab, modelConfig, seed, { context: T, weights: ckpt.tensors, ...(c.embedding ? { embedding: c.embedding } : {}), ...(c.softmax ? { softmax: c.softmax } : {}) });
        factorizedParams = { ...(c.embedding ? { embedding: c.embedding.params } : {}), ...(c.softmax ? { softmax: c.softmax.params } : {}) };
        compression = { baselineTrialId: opts.baseline!.trialId, baselineParams: info.params, baselineValidPpl: info.validPpl, matrices: c.reports };
      } else {
        try {
          model = languageModelFromWeights(vocab, modelConfig, ckpt.tensors, { context: T });
        } catch (e) {
          throw new TrialConfigError(`${config.method}: ${(e as Error).message}`);
        }
      }
    } else {
      model = createLanguageModel(vocab, modelConfig, seed, { context: T });
    }
    const m = model;
    const keys = m.variableKeys();
    const sizes = m.variables.map((v) => v.size);
    if (resumed) {
      if (optName === 'adam') {
        const a = resumed.adam!;
        optimizer = adam(m.variables, { t: saved!.adamStep!, m: resumeSlots(a.m, keys, sizes, 'the Adam first moment'), v: resumeSlots(a.v, keys, sizes, 'the Adam second moment') });
      } else optimizer = sgd(m.variables);
      state = {
        h: resumed.lstm.h.map((d) => tf.tensor2d(d, [B, modelConfig.hidden])),
        c: resumed.lstm.c.map((d) => tf.tensor2d(d, [B, modelConfig.hidden])),
      };
    } else optimizer = optName === 'adam' ? adam(m.variables) : sgd(m.variables);
    const dropoutRng: Rng = resumed ? rngFromState(resumed.dropoutRng) : createRng(seed, 1);
    let lastValid = saved?.lastValid;
    const evaluate = async (split: Int32Array, step: number, name: string) => {
      const ppl = (await evaluatePerplexity(m, evalSplit(split), { eosId, batchSize: opts.evalBatchSize, signal, step })).perplexity;
      if (!Number.isFinite(ppl)) {
        point(step, name, ppl);
        await flush().catch(() => undefined);
        throw new DivergedError(step, ppl, name === 'valid_ppl' ? 'validation perplexity' : 'test perplexity');
      }
      if (name === 'valid_ppl') lastValid = { step, validPpl: ppl };
      return ppl;
    };

    let before: { validPpl: number; testPpl: number } | undefined = saved?.before;
    /** Fine-tuning's best validation point so far; weights: its copy, null while it is the model as it stands. */
    let best: { step: number; validPpl: number; weights: Float32Array[] | null } | undefined = saved?.best
      ? { ...saved.best, weights: resumed!.bestWeights ? resumeSlots(resumed!.bestWeights, keys, sizes, 'the best point\'s weight') : null }
      : undefined;
    if (fromBaseline && !resumed) {
      before = { validPpl: await evaluate(corpus.valid, 0, 'valid_ppl'), testPpl: await evaluate(corpus.test, 0, 'test_ppl') };
      point(0, 'valid_ppl', before.validPpl);
      point(0, 'test_ppl', before.testPpl);
      best = { step: 0, validPpl: before.validPpl, weights: null };
      await flush();
    }
    /** A validation point of the fine-tuning: the lowest so far becomes the best (the earliest on ties). */
    const consider = (step: number, validPpl: number) => {
      if (best && validPpl < best.validPpl) best = { step, validPpl, weights: null };
    };

    let trainSeconds = saved?.trainSeconds ?? 0;
    let intervalLoss = saved?.intervalLoss ?? 0;
    let intervalSteps = saved?.intervalSteps ?? 0;
    let lastLoss = saved?.lastLoss ?? NaN;
    let lastIntervalLoss: number | undefined = saved?.lastIntervalLoss;
    const elapsed = () => (saved?.elapsedSeconds ?? 0) + (performance.now() - started) / 1000;
    for (let s = saved?.step ?? 0; s < totalSteps; s++) {
      if (signal?.aborted) throw new AbortedError(s, signal.reason);
      // The best point's weights are about to change under the optimizer: keep a copy.
      if (best && best.weights === null) best.weights = weightsSnapshot(m);
      const t0 = performance.now();
      const epoch = Math.floor(s / stepsPerEpoch);
      const w = s % stepsPerEpoch;
      if (w === 0 || !state) {
        disposeState(state);
        state = m.zeroState(B);
      }
      const lr = learningRate(loopConfig.training, epoch);
      const { x, y } = batches.window(w);
      let next: LstmState | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const r = m.forward(x, y, B, state!, dropoutRng);
        next = keepState(r.state);
        return tf.mul(r.lossSum, lossScale) as tf.Scalar;
      }, m.variables);
      disposeState(state);
      state = next;
      const loss = (value.dataSync()[0]! / lossScale) / (B * T);
      value.dispose();
      const norm = globalNorm(m.variables.map((v) => grads[v.name]!));
      const bad = !Number.isFinite(loss) ? { what: 'loss', v: loss } : !Number.isFinite(norm) ? { what: 'gradient norm', v: norm } : undefined;
      if (bad) {
        tf.dispose(grads);
        point(s + 1, 'train_loss', loss);
        await flush().catch(() => undefined);
        throw new DivergedError(s + 1, bad.v, bad.what);
      }
      optimizer.apply(grads, norm > clip ? clip / norm : 1, lr);
      tf.dispose(grads);
      trainSeconds += (performance.now() - t0) / 1000;

      const step = s + 1;
      lastLoss = loss;
      intervalLoss += loss;
      intervalSteps++;
      if (step % logEvery === 0 || step === totalSteps) {
        lastIntervalLoss = intervalLoss / intervalSteps;
        point(step, 'train_loss', lastIntervalLoss);
        point(step, 'lr', lr);
        intervalLoss = 0;
        intervalSteps = 0;
      }
      const tokensPerSecond = (step * tokensPerStep) / Math.max(trainSeconds, 1e-9);
      opts.onProgress?.({
        step,
        totalSteps,
        progress: step / totalSteps,
        tokensPerSecond,
        etaSeconds: ((totalSteps - step) * tokensPerStep + evalTokensLeft(step) / 3) / tokensPerSecond,
        trainLoss: loss,
      });
      if (evalAfter(step)) {
        const v = await evaluate(corpus.valid, step, 'valid_ppl');
        point(step, 'valid_ppl', v);
        consider(step, v);
      }
      if (pending.length > 0) await flush();
      if (opts.pause && step < totalSteps && (await opts.pause.at(step, { trainLoss: loss, ...(lastValid ? { lastValid } : {}) }))) {
        const adamState = optimizer.state();
        const trainer: TrainerState = {
          step,
          totalSteps,
          stepsPerEpoch,
          optimizer: optName,
          ...(adamState ? { adamStep: adamState.t } : {}),
          trainSeconds,
          elapsedSeconds: elapsed(),
          intervalLoss,
          intervalSteps,
          lastLoss,
          ...(lastIntervalLoss !== undefined ? { lastIntervalLoss } : {}),
          ...(lastValid ? { lastValid } : {}),
          ...(before ? { before } : {}),
          ...(best ? { best: { step: best.step, validPpl: best.validPpl } } : {}),
          ...(baselineTrialId !== undefined ? { baselineTrialId } : {}),
          ...(compression ? { compression } : {}),
          ...(factorizedParams ? { factorizedParams } : {}),
        };
        const byKey = (arrays: Float32Array[]) => Object.fromEntries(keys.map((k, i) => [k, arrays[i]!]));
        const now: ResumeState = {
          trainer,
          weights: m.exportWeights(),
          ...(adamState ? { adam: { m: byKey(adamState.m), v: byKey(adamState.v) } } : {}),
          ...(best?.weights ? { bestWeights: byKey(best.weights) } : {}),
          lstm: { h: state!.h.map((t) => Float32Array.from(t.dataSync() as Float32Array)), c: state!.c.map((t) => Float32Array.from(t.dataSync() as Float32Array)) },
          dropoutRng: dropoutRng.state(),
        };
        const device = currentBackend()?.device;
        const bytes = encodeResumeCheckpoint(now, identity(), { backend: backendName, ...(device ? { device } : {}) });
        const paused: TrialPaused = {
          paused: true,
          step,
          totalSteps,
          epoch: step / stepsPerEpoch,
          trainLoss: lastIntervalLoss ?? lastLoss,
          ...(lastValid ? { lastValid } : {}),
          ...(best ? { best: { step: best.step, validPpl: best.validPpl } } : {}),
          seconds: elapsed(),
          tokensPerSecond: (step * tokensPerStep) / Math.max(trainSeconds, 1e-9),
          backend: backendName,
        };
        await opts.pause.onCheckpoint(bytes, paused);
        return paused;
      }
      await yieldToEventLoop();
    }
    disposeState(state);
    state = undefined;

    let validPpl: number;
    let testPpl: number;
    let last: { validPpl: number; testPpl: number } | undefined;
    if (before && totalSteps === 0) {
      // No fine-tuning: the model as it started is the result.
      [validPpl, testPpl] = [before.validPpl, before.testPpl];
      last = before;
    } else {
      validPpl = await evaluate(corpus.valid, totalSteps, 'valid_ppl');
      point(totalSteps, 'valid_ppl', validPpl);
      testPpl = await evaluate(corpus.test, totalSteps, 'test_ppl');
      point(totalSteps, 'test_ppl', testPpl);
      if (best) {
        last = { validPpl, testPpl };
        consider(totalSteps, validPpl);
        if (best.step !== totalSteps) {
          // An earlier point was better: report it, with its weights (for the checkpoint too).
          weightsRestore(m, best.weights!);
          validPpl = best.validPpl;
          if (best.step === 0) testPpl = before!.testPpl;
          else {
            testPpl = await evaluate(corpus.test, best.step, 'test_ppl');
            point(best.step, 'test_ppl', testPpl);
          }
        }
      }
    }
    await flush();
    const count = languageModelParamCount(vocab, modelConfig, T, factorizedParams);
    if (opts.onCheckpoint) {
      const meta = checkpointMetadata({ vocab, vocabSha256: vocabDigest(corpus.vocab), validPpl, testPpl, params: count.total, seed, config: JSON.stringify(config) });
      await opts.onCheckpoint(encodeCheckpoint(m.exportWeights(), meta));
    }
    const seconds = elapsed();
    return {
      params: count.total,
      paramsByLayer: count.byLayer,
      validPpl,
      testPpl,
      trainLoss: lastIntervalLoss ?? (Number.isNaN(lastLoss) ? undefined : lastLoss),
      steps: totalSteps,
      tokens: totalSteps * tokensPerStep,
      seconds,
      tokensPerSecond: totalSteps === 0 ? 0 : (totalSteps * tokensPerStep) / Math.max(trainSeconds, 1e-9),
      vocabSize: vocab,
      backend: backendName,
      ...(compression && before ? { compression: { ...compression, validPplBefore: before.validPpl, testPplBefore: before.testPpl, finetuneSteps: totalSteps } } : {}),
      ...(before && last && best
        ? { finetune: { baselineTrialId: baselineTrialId!, steps: totalSteps, lr: loopConfig.training.lr, validPplBefore: before.validPpl, testPplBefore: before.testPpl, validPplLast: last.validPpl, testPplLast: last.testPpl, bestStep: best.step } }
        : {}),
    };
  } finally {
    disposeState(state);
    optimizer?.dispose();
    model?.dispose();
  }
}
