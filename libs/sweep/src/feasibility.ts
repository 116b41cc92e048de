// What cannot be built at one point of a sweep (PHM's n must divide each chosen matrix's sizes, a
// rank may not exceed a matrix's smaller side, a compression rate must be one integer ranks can
// meet): checked at launch for every grid point, and for a sampled point before it is queued, so
// an infeasible point never reaches a worker.
import { type CompressionMethod, rateIssue } from '@lmsweep/algorithms';
import { archOf, compressedMatrices, compressionIssues, type FieldIssue, type GridValue, type SweepSpec, transformerShape, type TrialConfig } from '@lmsweep/protocol';
import { checkOverride, configFor } from './config.ts';

/** Vocabulary sizes of the bundled datasets (when the spec sets no vocabSize). */
const BUNDLED_VOCAB: ReadonlyMap<string, number> = new Map([['ptb', 10_000]]);

/**
 * Why a resolved trial config cannot be built (paths name its fields: model.phm.n,
 * model.lowrank.rank, compress.rate, compress.blocks); empty when it can. The softmax is checked
 * when the vocabulary size is known (dataset.vocabSize, or a bundled dataset's).
 */
export function configIssues(config: TrialConfig): FieldIssue[] {
  const vocab = config.dataset.vocabSize ?? BUNDLED_VOCAB.get(config.dataset.name);
  const found = compressionIssues(config.model, vocab);
  found.push(...attentionMemoryIssues(config));
  if (config.compress && config.model.tied) found.push({ path: 'model.tied', message: `${config.method} factorizes the embedding and the softmax apart; a tied model's are one matrix (not supported yet: untie it)` });
  if (config.compress && vocab !== undefined) found.push(...rateIssues(config, vocab));
  return found;
}

/**
 * Why the spec's config at `point` (dotted path → value, e.g. a sampler's suggestion) cannot be
 * run: each override's path and value first (named by its path; then nothing else is checked),
 * then configIssues of the config it gives. Never throws for a bad point; empty when it is feasible.
 */
export function pointIssues(spec: SweepSpec, point: Record<string, GridValue>): FieldIssue[] {
  const bad: FieldIssue[] = [];
  for (const [key, value] of Object.entries(point)) {
    const problem = checkOverride(key, value);
    if (problem) bad.push({ path: key, message: problem });
  }
  return bad.length ? bad : configIssues(configFor(spec, point));
}

/** What a Transformer's attention weights may hold at once (the wasm heap is 4 GiB, and the step needs the rest). */
export const ATTENTION_BYTES_LIMIT = 1024 ** 3;

/** A Transformer keeps its attention weights, batch·heads·unroll² floats per block, from the forward to the backward: over ATTENTION_BYTES_LIMIT it cannot train. */
function attentionMemoryIssues(config: TrialConfig): FieldIssue[] {
  if (archOf(config.model) !== 'transformer') return [];
  const { heads, layers } = transformerShape(config.model);
  const { batchSize: B, unroll: T } = config.training;
  const bytes = B * heads * T * T * 4 * layers;
  if (bytes <= ATTENTION_BYTES_LIMIT) return [];
  const gib = (x: number) => `${(x / 1024 ** 3).toFixed(2)} GiB`;
  return [{ path: 'training.unroll', message: `a Transformer keeps batch·heads·unroll² attention weights per block: ${B}·${heads}·${T}²·4 bytes × ${layers} blocks = ${gib(bytes)}, over the ${gib(ATTENTION_BYTES_LIMIT)} a step may hold; shorten training.unroll or training.batchSize` }];
}

/** Compression rates no integer ranks of the method meet within 1% on the matrices it compresses, with the nearest it can (algorithms' rateIssue: exact from the sizes). */
function rateIssues(config: TrialConfig, vocab: number): FieldIssue[] {
  const c = config.compress!;
  const out: FieldIssue[] = [];
  for (const m of compressedMatrices(c.target, config.model, vocab)) {
    const problem = rateIssue(config.method as CompressionMethod, m.N, m.D, c.rate, c.blocks);
    if (problem) out.push({ path: problem.startsWith('blocks') ? 'compress.blocks' : 'compress.rate', message: `${m.name} (${m.N}×${m.D}): ${problem}` });
  }
  return out;
}
