// Compressing a trained LSTM LM's embedding and softmax (GroupReduce and its baselines): from a
// baseline trial's checkpoint to the factorized matrices the compressed model starts from.
import { createHash } from 'node:crypto';
import { compress, type Factorized, RateError, weightedError } from '@lmsweep/algorithms';
import { type CompressedMatrixReport, compressedMatrices, type CompressionMethodName, type CompressOptions, type ModelConfig } from '@lmsweep/protocol';
import type { Checkpoint, TensorData } from './checkpoint.ts';
import { checkpointFormat, isResumeCheckpoint } from './resume.ts';

/** Checkpoint metadata keys every trial's checkpoint carries. */
export interface CheckpointInfo {
  vocab: number;
  /** sha256 of the vocabulary, one word per line: a compression trial must see the same words in the same order. */
  vocabSha256: string;
  validPpl: number;
  testPpl: number;
  params: number;
  seed: number;
  /** The trial config (JSON). */
  config: string;
}

export function vocabDigest(vocab: readonly string[]): string {
  return createHash('sha256').update(vocab.join('\n')).digest('hex');
}

export function checkpointMetadata(info: CheckpointInfo): Record<string, string> {
  return Object.fromEntries(Object.entries(info).map(([k, v]) => [k, String(v)]));
}

/**
 * The metadata of a baseline checkpoint, checked against this trial's vocabulary. A paused
 * trial's resume checkpoint is refused: its weights are a half-trained model's, not the result
 * its trial reports, and compressing or fine-tuning them would compare against the wrong model.
 */
export function readCheckpointInfo(ckpt: Checkpoint, vocab: readonly string[]): CheckpointInfo {
  const m = ckpt.metadata;
  if (isResumeCheckpoint(ckpt)) {
    let step = '?';
    try {
      const t = JSON.parse(m['trainer'] ?? '{}') as { step?: number; totalSteps?: number };
      step = `${t.step} of ${t.totalSteps}`;
    } catch {
      // keep '?'
    }
    throw new Error(`the baseline checkpoint is a paused trial's resume checkpoint (${checkpointFormat(m)}, step ${step}), not a finished trial's: start from the baseline's final checkpoint`);
  }
  if (checkpointFormat(m) !== undefined) throw new Error(`the baseline checkpoint has format "${checkpointFormat(m)}", which this version does not read`);
  const num = (k: string) => {
    const v = Number(m[k]);
    if (m[k] === undefined || !Number.isFinite(v)) throw new Error(`checkpoint metadata: ${k} is ${m[k] === undefined ? 'missing' : `"${m[k]}", not a number`}`);
    return v;
  };
  const info: CheckpointInfo = { vocab: num('vocab'), vocabSha256: m['vocabSha256'] ?? '', validPpl: num('validPpl'), testPpl: num('testPpl'), params: num('params'), seed: num('seed'), config: m['config'] ?? '' };
  if (info.vocab !== vocab.length || info.vocabSha256 !== vocabDigest(vocab)) {
    throw new Error(`the baseline checkpoint was trained on another vocabulary (${info.vocab} words, sha256 ${info.vocabSha256.slice(0, 12)}…) than this trial's (${vocab.length} words, ${vocabDigest(vocab).slice(0, 12)}…)`);
  }
  return info;
}

/** Token counts of the train split per word id: the frequencies GroupReduce weights by. */
export function trainFrequencies(train: Int32Array, vocab: number): Float64Array {
  const q = new Float64Array(vocab);
  for (let i = 0; i < train.length; i++) q[train[i]!]!++;
  return q;
}

function tensor(weights: Record<string, TensorData>, name: string, shape: number[]): Float32Array {
  const t = weights[name];
  if (!t) throw new Error(`the baseline checkpoint has no tensor ${name}: is it a dense model's?`);
  if (t.shape.join(',') !== shape.join(',') || !(t.data instanceof Float32Array)) {
    throw new Error(`checkpoint tensor ${name}: expected float32 [${shape.join(', ')}], got ${t.data instanceof Float32Array ? 'float32' : 'int32'} [${t.shape.join(', ')}]`);
  }
  return t.data;
}

export interface CompressedMatrices {
  embedding?: Factorized;
  softmax?: Factorized;
  reports: Record<string, CompressedMatrixReport>;
}

/**
 * Compresses the matrices `options.target` names, taken from a dense checkpoint: the embedding
 * `embedding/E` [V, e] as is, the softmax `softmax/W` [h, V] as its transpose [V, h] (one row
 * per word), each with `method` at options.rate under the train frequencies q, the rate met
 * within 1% (mixing ranks across blocks as needed); a rate the method cannot meet throws a
 * RateError naming the matrix and the nearest rates it can meet.
 */
export function compressCheckpointMatrices(
  weights: Record<string, TensorData>,
  model: Pick<ModelConfig, 'embedding' | 'hidden'>,
  vocab: number,
  q: Float64Array,
  method: CompressionMethodName,
  options: CompressOptions,
): CompressedMatrices {
  const out: CompressedMatrices = { reports: {} };
  const power = options.weightPower ?? 1;
  const wq = power === 1 ? q : q.map((x) => x ** power);
  for (const m of compressedMatrices(options.target, model, vocab)) {
    let data: Float32Array;
    if (m.name === 'embedding') data = tensor(weights, 'embedding/E', [vocab, model.embedding]);
    else {
      const w = tensor(weights, 'softmax/W', [model.hidden, vocab]);
      data = new Float32Array(vocab * model.hidden);
      for (let i = 0; i < model.hidden; i++) for (let j = 0; j < vocab; j++) data[j * model.hidden + i] = w[i * vocab + j]!;
    }
    const A = { data, rows: m.N, cols: m.D };
    const t0 = performance.now();
    let f: Factorized;
    try {
      f = compress(method, A, wq, { rate: options.rate, blocks: options.blocks, iters: options.iters });
    } catch (e) {
      if (e instanceof RateError) throw new RateError(`${m.name} (${m.N}×${m.D}): ${e.message}`, e.method, e.rate, e.tolerance, e.nearest);
      throw e;
    }
    const seconds = (performance.now() - t0) / 1000;
    out[m.name] = f;
    const refinement = f.refinement && { moved: f.refinement.moved, werr: f.refinement.errors, kept: f.refinement.best };
    out.reports[m.name] = { rows: m.N, cols: m.D, params: f.params, rate: f.rate, werr: weightedError(A, q, f), error: weightedError(A, new Float64Array(m.N).fill(1), f), ranks: f.blocks.map((b) => b.rank), seconds, ...(refinement && { refinement }) };
  }
  return out;
}
