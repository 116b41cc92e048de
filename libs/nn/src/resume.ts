// Resume checkpoints: a paused trial's whole training state, so that another runTrial call (on
// any worker) continues its curve without a seam. The bytes are an ordinary checkpoint
// (checkpoint.ts, safetensors) that extends a finished trial's:
//  - the model's weights under their exportWeights names, as in a final checkpoint;
//  - `resume/…` tensors: the Adam moments per variable (`resume/adam.m/<variable>`,
//    `resume/adam.v/<variable>`, in the variable's own layout), the fine-tuning's best weights
//    when they are not the model's own (`resume/best/<variable>`), the LSTM state carried into
//    the next window (`resume/lstm.<l>.h`, `resume/lstm.<l>.c`, [batch, hidden]) and the dropout
//    generator's four words (`resume/rng.dropout`, I32);
//  - metadata `format: lmsweep-resume/1` (a checkpoint without `format` is a finished trial's),
//    what the state belongs to (config, seed, vocabulary and corpus digests), `trainer` (JSON:
//    step, optimizer step count, the loss and validation bookkeeping, the fine-tuning's best
//    point) and `digest`, a sha256 over all the rest, so a flipped bit anywhere is refused.
import { createHash } from 'node:crypto';
import { CompressionReport } from '@lmsweep/protocol';
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint, type TensorData } from './checkpoint.ts';

export const RESUME_FORMAT = 'lmsweep-resume/1';
const FORMAT_FAMILY = 'lmsweep-resume/';
const PREFIX = 'resume/';

/** A resume checkpoint that cannot continue this trial: corrupt, truncated, of another format, or of another trial. */
export class ResumeCheckpointError extends Error {
  override name = 'ResumeCheckpointError';
}

const fail = (msg: string): never => {
  throw new ResumeCheckpointError(`resume checkpoint: ${msg}`);
};

/** The compression report a resumed compression trial carries on (its baseline is not compressed again). */
const StoredCompression = CompressionReport.omit({ validPplBefore: true, testPplBefore: true, finetuneSteps: true });
export type StoredCompression = Omit<CompressionReport, 'validPplBefore' | 'testPplBefore' | 'finetuneSteps'>;

/** The JSON part: counters and the metric bookkeeping that decides the trial's result. */
export interface TrainerState {
  /** Optimizer steps done; the resumed run takes step + 1 next. */
  step: number;
  totalSteps: number;
  stepsPerEpoch: number;
  optimizer: 'sgd' | 'adam';
  /** Adam's bias-correction step count t. */
  adamStep?: number;
  /** Seconds of training so far, and wall seconds including evaluation. */
  trainSeconds: number;
  elapsedSeconds: number;
  /** The train_loss point in progress: Σ of its per-step losses and their count. */
  intervalLoss: number;
  intervalSteps: number;
  lastLoss: number;
  lastIntervalLoss?: number;
  /** The last validation point measured. */
  lastValid?: { step: number; validPpl: number };
  /** Fine-tuning: perplexities before the first step and the best validation point so far. */
  before?: { validPpl: number; testPpl: number };
  best?: { step: number; validPpl: number };
  baselineTrialId?: string;
  compression?: StoredCompression;
  factorizedParams?: { embedding?: number; softmax?: number };
}

export interface ResumeState {
  trainer: TrainerState;
  /** LstmLm.exportWeights() of the model at the pause. */
  weights: Record<string, TensorData>;
  /** Adam's moments by variable key (LstmLm.variableKeys()). */
  adam?: { m: Record<string, Float32Array>; v: Record<string, Float32Array> };
  /** The fine-tuning's best weights by variable key, when the best point is not the model as it stands. */
  bestWeights?: Record<string, Float32Array>;
  /** State carried into the next window, per layer, each [batch·hidden]. */
  lstm: { h: Float32Array[]; c: Float32Array[] };
  /** Rng.state() of the dropout stream. */
  dropoutRng: Uint32Array;
}

/** What a resume checkpoint belongs to: a different value anywhere refuses it. */
export interface ResumeIdentity {
  /** canonicalJson(resolveConfig(config)). */
  config: string;
  seed: number;
  vocab: number;
  vocabSha256: string;
  corpusSha256: string;
  batchSize: number;
  hidden: number;
  /** Layers whose recurrent state the checkpoint carries: an LSTM's layers; 0 for a Transformer (it carries none). */
  layers: number;
}

/** JSON with object keys sorted at every level: equal values give equal strings. */
export function canonicalJson(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

/** sha256 over the train, valid and test token streams. */
export function corpusDigest(corpus: { train: Int32Array; valid: Int32Array; test: Int32Array }): string {
  const h = createHash('sha256');
  for (const s of [corpus.train, corpus.valid, corpus.test]) {
    h.update(`${s.length}\n`);
    h.update(new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
  }
  return h.digest('hex');
}

/** Dotted paths where two JSON values differ ("training.lr: 0.02 here, 0.01 in the checkpoint"), at most `limit`. */
function differences(here: unknown, there: unknown, path = '', out: string[] = [], limit = 5): string[] {
  if (out.length >= limit) return out;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(here) && isObj(there)) {
    for (const k of [...new Set([...Object.keys(here), ...Object.keys(there)])].sort()) {
      differences(Object.hasOwn(here, k) ? here[k] : undefined, Object.hasOwn(there, k) ? there[k] : undefined, path ? `${path}.${k}` : k, out, limit);
    }
  } else if (canonicalJson(here) !== canonicalJson(there)) {
    out.push(`${path || '(config)'}: ${JSON.stringify(here) ?? 'absent'} here, ${JSON.stringify(there) ?? 'absent'} in the checkpoint`);
  }
  return out;
}

function digestOf(metadata: Record<string, string>, tensors: Record<string, TensorData>): string {
  const h = createHash('sha256');
  h.update(canonicalJson(Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== 'digest'))));
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name]!;
    h.update(`\n${name}\n${t.data instanceof Float32Array ? 'F32' : 'I32'}\n${t.shape.join(',')}\n`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

/** A resume checkpoint of `state` for the trial `id`; `info` adds informational metadata (the backend it ran on). */
export function encodeResumeCheckpoint(state: ResumeState, id: ResumeIdentity, info: Record<string, string> = {}): Uint8Array {
  const tensors: Record<string, TensorData> = {};
  for (const [k, t] of Object.entries(state.weights)) {
    if (k.startsWith(PREFIX)) throw new Error(`encodeResumeCheckpoint: a weight named "${k}" collides with the resume state`);
    tensors[k] = t;
  }
  const vec = (data: Float32Array): TensorData => ({ shape: [data.length], data });
  if (state.adam) {
    for (const [k, d] of Object.entries(state.adam.m)) tensors[`${PREFIX}adam.m/${k}`] = vec(d);
    for (const [k, d] of Object.entries(state.adam.v)) tensors[`${PREFIX}adam.v/${k}`] = vec(d);
  }
  if (state.bestWeights) for (const [k, d] of Object.entries(state.bestWeights)) tensors[`${PREFIX}best/${k}`] = vec(d);
  state.lstm.h.forEach((d, l) => (tensors[`${PREFIX}lstm.${l}.h`] = { shape: [id.batchSize, id.hidden], data: d }));
  state.lstm.c.forEach((d, l) => (tensors[`${PREFIX}lstm.${l}.c`] = { shape: [id.batchSize, id.hidden], data: d }));
  tensors[`${PREFIX}rng.dropout`] = { shape: [4], data: new Int32Array(state.dropoutRng.buffer.slice(state.dropoutRng.byteOffset, state.dropoutRng.byteOffset + 16)) };
  const metadata: Record<string, string> = {
    ...info,
    format: RESUME_FORMAT,
    config: id.config,
    seed: String(id.seed),
    vocab: String(id.vocab),
    vocabSha256: id.vocabSha256,
    corpusSha256: id.corpusSha256,
    trainer: JSON.stringify(state.trainer),
  };
  metadata['digest'] = digestOf(metadata, tensors);
  return encodeCheckpoint(tensors, metadata);
}

/** The resume format of a checkpoint's metadata: undefined for a finished trial's (no `format`). */
export function checkpointFormat(metadata: Record<string, string>): string | undefined {
  return Object.hasOwn(metadata, 'format') ? metadata['format'] : undefined;
}

/** Whether a decoded checkpoint is a paused trial's (any version). */
export function isResumeCheckpoint(ckpt: Checkpoint): boolean {
  return checkpointFormat(ckpt.metadata)?.startsWith(FORMAT_FAMILY) ?? false;
}

const isNum = (v: unknown, int = false, min = -Infinity): v is number => typeof v === 'number' && Number.isFinite(v) && v >= min && (!int || Number.isInteger(v));

function checkTrainer(t: unknown): TrainerState {
  const o = (typeof t === 'object' && t !== null && !Array.isArray(t) ? t : fail('metadata "trainer" is not a JSON object')) as Record<string, unknown>;
  const need = (k: string, ok: (v: unknown) => boolean, what: string) => {
    if (!ok(o[k])) fail(`trainer.${k} is ${o[k] === undefined ? 'missing' : JSON.stringify(o[k])}, expected ${what}`);
  };
  const opt = (k: string, ok: (v: unknown) => boolean, what: string) => o[k] === undefined || need(k, ok, what);
  const point = (keys: string[]) => (v: unknown) => typeof v === 'object' && v !== null && keys.every((k) => isNum((v as Record<string, unknown>)[k], k === 'step', 0));
  need('step', (v) => isNum(v, true, 1), 'an integer ≥ 1');
  need('totalSteps', (v) => isNum(v, true, 1), 'an integer ≥ 1');
  need('stepsPerEpoch', (v) => isNum(v, true, 1), 'an integer ≥ 1');
  need('optimizer', (v) => v === 'sgd' || v === 'adam', '"sgd" or "adam"');
  if (o['optimizer'] === 'adam') need('adamStep', (v) => isNum(v, true, 0), 'an integer ≥ 0');
  for (const k of ['trainSeconds', 'elapsedSeconds', 'intervalLoss', 'lastLoss']) need(k, (v) => isNum(v), 'a finite number');
  need('intervalSteps', (v) => isNum(v, true, 0), 'an integer ≥ 0');
  opt('lastIntervalLoss', (v) => isNum(v), 'a finite number');
  opt('lastValid', point(['step', 'validPpl']), '{step, validPpl}');
  opt('before', point(['validPpl', 'testPpl']), '{validPpl, testPpl}');
  opt('best', point(['step', 'validPpl']), '{step, validPpl}');
  opt('baselineTrialId', (v) => typeof v === 'string', 'a string');
  opt('factorizedParams', (v) => typeof v === 'object' && v !== null && Object.values(v).every((x) => isNum(x, true, 0)), '{embedding?, softmax?} parameter counts');
  if (o['compression'] !== undefined) {
    const c = StoredCompression.safeParse(o['compression']);
    if (!c.success) fail(`trainer.compression is not a compression report: ${c.error.message}`);
  }
  if ((o['step'] as number) >= (o['totalSteps'] as number)) fail(`trainer.step ${String(o['step'])} is not before totalSteps ${String(o['totalSteps'])}: a finished trial is not resumed`);
  return o as unknown as TrainerState;
}

/**
 * Reads a resume checkpoint for the trial `id`. Refuses, with a ResumeCheckpointError naming what
 * is wrong: bytes that do not decode (truncated, corrupt header), a checkpoint without a resume
 * format (a finished trial's) or of an unknown version, a digest that does not match its contents,
 * a different config (naming the fields), seed, vocabulary or corpus, and missing or misshapen
 * state. The model's own weights and Adam slots are checked against the model by the caller
 * (resumeSlots).
 */
export function decodeResumeCheckpoint(bytes: Uint8Array, id: ResumeIdentity): ResumeState {
  let ckpt: Checkpoint;
  try {
    ckpt = decodeCheckpoint(bytes);
  } catch (e) {
    return fail((e as Error).message);
  }
  const m = ckpt.metadata;
  const format = checkpointFormat(m);
  if (format === undefined) fail('no "format" in its metadata: this is a finished trial\'s checkpoint (weights only), not a paused trial\'s');
  if (format !== RESUME_FORMAT) fail(`format "${format}" is not one this version reads (${RESUME_FORMAT})`);
  if (m['digest'] !== digestOf(m, ckpt.tensors)) fail(`its contents do not match their sha256 digest ${m['digest'] === undefined ? '(missing)' : `${m['digest'].slice(0, 12)}…`}: corrupt`);
  if (m['config'] !== id.config) {
    let there: unknown;
    try {
      there = JSON.parse(m['config'] ?? '');
    } catch {
      there = m['config'];
    }
    fail(`it belongs to another trial config: ${differences(JSON.parse(id.config), there).join('; ')}`);
  }
  if (m['seed'] !== String(id.seed)) fail(`it was trained with seed ${m['seed']}, this trial has seed ${id.seed}`);
  if (m['vocab'] !== String(id.vocab) || m['vocabSha256'] !== id.vocabSha256) fail(`it was trained on another vocabulary (${m['vocab']} words, sha256 ${m['vocabSha256']?.slice(0, 12)}…) than this trial's (${id.vocab} words, ${id.vocabSha256.slice(0, 12)}…)`);
  if (m['corpusSha256'] !== id.corpusSha256) fail(`it was trained on another corpus (token streams sha256 ${m['corpusSha256']?.slice(0, 12)}…, this trial's ${id.corpusSha256.slice(0, 12)}…)`);
  let trainerJson: unknown;
  try {
    trainerJson = JSON.parse(m['trainer'] ?? fail('metadata "trainer" is missing'));
  } catch (e) {
    if (e instanceof ResumeCheckpointError) throw e;
    fail(`metadata "trainer" is not JSON (${(e as Error).message})`);
  }
  const trainer = checkTrainer(trainerJson);

  const t = ckpt.tensors;
  const take = (name: string, shape: number[], dtype: 'F32' | 'I32'): TensorData['data'] => {
    const x = Object.hasOwn(t, name) ? t[name] : undefined;
    if (!x) return fail(`tensor "${name}" is missing`);
    const is = x.data instanceof Float32Array ? 'F32' : 'I32';
    if (is !== dtype || x.shape.join(',') !== shape.join(',')) fail(`tensor "${name}" is ${is} [${x.shape.join(', ')}], expected ${dtype} [${shape.join(', ')}]`);
    return x.data;
  };
  const lstm = { h: [] as Float32Array[], c: [] as Float32Array[] };
  for (let l = 0; l < id.layers; l++) {
    lstm.h.push(take(`${PREFIX}lstm.${l}.h`, [id.batchSize, id.hidden], 'F32') as Float32Array);
    lstm.c.push(take(`${PREFIX}lstm.${l}.c`, [id.batchSize, id.hidden], 'F32') as Float32Array);
  }
  const rng = take(`${PREFIX}rng.dropout`, [4], 'I32');
  const group = (g: string) => {
    const out: Record<string, Float32Array> = {};
    for (const [k, x] of Object.entries(t)) if (k.startsWith(`${PREFIX}${g}/`) && x.data instanceof Float32Array) out[k.slice(PREFIX.length + g.length + 1)] = x.data;
    return out;
  };
  const known = new Set([...Array.from({ length: id.layers }, (_, l) => [`${PREFIX}lstm.${l}.h`, `${PREFIX}lstm.${l}.c`]).flat(), `${PREFIX}rng.dropout`]);
  const stray = Object.keys(t).filter((k) => k.startsWith(PREFIX) && !known.has(k) && !/^resume\/(adam\.[mv]|best)\//.test(k));
  if (stray.length > 0) fail(`unknown state tensors ${stray.map((k) => `"${k}"`).join(', ')}`);
  const weights = Object.fromEntries(Object.entries(t).filter(([k]) => !k.startsWith(PREFIX)));
  const best = group('best');
  return {
    trainer,
    weights,
    ...(trainer.optimizer === 'adam' ? { adam: { m: group('adam.m'), v: group('adam.v') } } : {}),
    ...(Object.keys(best).length > 0 ? { bestWeights: best } : {}),
    lstm,
    dropoutRng: new Uint32Array(rng.buffer, rng.byteOffset, 4).slice(),
  };
}

/**
 * Per-variable arrays of `slots` (by variable key) in the order of `keys`, each checked to hold
 * `sizes[i]` values; `what` names the slot in the error ("the Adam first moment").
 */
export function resumeSlots(slots: Record<string, Float32Array>, keys: string[], sizes: number[], what: string): Float32Array[] {
  const unused = Object.keys(slots).filter((k) => !keys.includes(k));
  if (unused.length > 0) fail(`${what} of ${unused.map((k) => `"${k}"`).join(', ')}, which the model does not have`);
  return keys.map((k, i) => {
    const d = Object.hasOwn(slots, k) ? slots[k] : undefined;
    if (!d) return fail(`${what} of variable "${k}" is missing`);
    if (d.length !== sizes[i]) fail(`${what} of variable "${k}" holds ${d.length} values, the variable ${sizes[i]}`);
    return d;
  });
}
