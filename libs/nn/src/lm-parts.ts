// What the LSTM and Transformer language models share: how one weight matrix is built (dense,
// PHM or low-rank, per protocol's resolved model), the embedding and softmax layer contracts,
// dropout, the window state, and the checks on given weights.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, WeightMatrix } from '@lmsweep/protocol';
import type { TensorData } from './checkpoint.ts';
import type { CompressionMethod, Factorized } from '@lmsweep/algorithms';
import { factorizedFromWeights } from './factorized.ts';
import { softmaxLayerLossSum } from './fused.ts';
import { lowRankParamCount, LowRankDense } from './low-rank-dense.ts';
import { matMul, softmaxCrossEntropySum } from './ops.ts';
import { phmDenseParamCount, PhmDense } from './phm.ts';
import type { Rng } from './random.ts';

export type MatrixKind = 'dense' | 'phm' | 'lowrank';

/** How a resolved model (protocol resolveModel) builds one weight matrix. */
export function kindOf(model: Partial<ModelConfig>, m: WeightMatrix): MatrixKind {
  if (model.phm?.layers.includes(m.group)) return 'phm';
  if (model.lowrank?.layers.includes(m.group)) return 'lowrank';
  return 'dense';
}

/** A weight matrix's parameters as its kind builds it: d·k, d·k/n + n³ (PHM), r·(d + k) (rank r). */
export function matrixParams(model: Partial<ModelConfig>, m: WeightMatrix): number {
  const kind = kindOf(model, m);
  if (kind === 'phm') return phmDenseParamCount(m.d, m.k, model.phm!.n, false);
  if (kind === 'lowrank') return lowRankParamCount(m.d, m.k, model.lowrank!.rank, false);
  return m.d * m.k;
}

/** Parameters of a factorized embedding and/or softmax weight (Factorized.params each). */
export interface FactorizedParams {
  embedding?: number;
  softmax?: number;
}

/** One weight matrix x:[N, d] → x·W:[N, k] (no bias), dense or compressed. */
export interface Projection {
  readonly variables: tf.Variable[];
  apply(x: tf.Tensor2D): tf.Tensor2D;
  /** W:[d, k] as one tensor (the dense variable itself, or a differentiable product). */
  weight(): tf.Tensor2D;
}

/**
 * The matrix m as config builds it: a PhmDense or LowRankDense (Glorot-uniform factors from rng,
 * variables `<prefix>/<m.name>/A|S|U|V`), or the dense variable `dense()` makes.
 */
export function makeProjection(config: Partial<ModelConfig>, m: WeightMatrix, rng: Rng, prefix: string, dense: () => tf.Variable): Projection {
  const kind = kindOf(config, m);
  if (kind === 'phm') return new PhmDense({ inputSize: m.d, outputSize: m.k, n: config.phm!.n, path: config.phm!.path, rng, bias: false, name: `${prefix}/${m.name}` });
  if (kind === 'lowrank') return new LowRankDense({ inputSize: m.d, outputSize: m.k, rank: config.lowrank!.rank, rng, bias: false, name: `${prefix}/${m.name}` });
  const w = dense() as tf.Tensor as tf.Tensor2D;
  return { variables: [w as tf.Variable], apply: (x) => matMul(x, w), weight: () => w };
}

/** ids:[n] → rows [n, e]: the dense table or a FactorizedEmbedding. */
export interface EmbeddingLayer {
  readonly variables: tf.Variable[];
  lookup(ids: Int32Array): tf.Tensor2D;
}

/** Hidden states x:[n, h] → word scores: dense (or PHM, low-rank) x·W + b, or a FactorizedSoftmax. */
export interface SoftmaxLayer {
  readonly variables: tf.Variable[];
  /** Σ −log softmax(x·W + b)[target] over the n rows. */
  lossSum(x: tf.Tensor2D, targets: Int32Array): tf.Scalar;
  /** x·W + b:[n, vocab] in word order. */
  logits(x: tf.Tensor2D): tf.Tensor2D;
}

/**
 * The softmax x·W + b from a projection W:[h, V] and a bias variable b:[V]; a dense W runs as
 * one fused op (logits, softmax and cross-entropy; fused.ts). `variables`: the trainable ones
 * the layer lists (W's and b, or b alone where W is another layer's: a tied embedding).
 */
export function projectionSoftmax(w: Pick<Projection, 'apply' | 'weight'>, b: tf.Variable, dense: boolean, variables: tf.Variable[]): SoftmaxLayer {
  const bias = b as tf.Tensor as tf.Tensor1D;
  const logits = (x: tf.Tensor2D) => tf.add(w.apply(x), bias) as tf.Tensor2D;
  const lossSum = (x: tf.Tensor2D, y: Int32Array) => (dense ? softmaxLayerLossSum(x, w.weight(), bias, y) : softmaxCrossEntropySum(logits(x), y));
  return { variables, logits, lossSum };
}

export interface LmOptions {
  /**
   * Values by exported name (exportWeights' keys: `embedding/E`, `lstm.0/Wx`, …): every variable
   * whose name is present takes its value (shapes checked); names the model lacks are ignored.
   */
  weights?: Record<string, TensorData>;
  /** Replaces the embedding table [vocab, e] by these factors (N = vocab, D = e). */
  embedding?: Factorized;
  /**
   * Replaces the softmax weight W:[h, vocab] by factors of A = Wᵀ (N = vocab, D = h); its bias is
   * weights['softmax/b'] when given. Not with a PHM or low-rank softmax (config.*.layers 'output').
   */
  softmax?: Factorized;
}

/**
 * What a model carries from one window to the next, per layer [batch, hidden]: an LSTM's hidden
 * and cell state. A Transformer carries nothing (each window is its whole context): both empty.
 */
export interface LstmState {
  h: tf.Tensor2D[];
  c: tf.Tensor2D[];
}

export function disposeState(s: LstmState | undefined): void {
  if (!s) return;
  for (const t of [...s.h, ...s.c]) t.dispose();
}

/** weights[key] checked against a variable's shape (float32), or undefined when absent. */
export function weightData(weights: Record<string, TensorData>, key: string, shape: number[]): Float32Array | undefined {
  const t = Object.hasOwn(weights, key) ? weights[key] : undefined;
  if (!t) return undefined;
  if (!(t.data instanceof Float32Array)) throw new Error(`weights["${key}"] holds ${t.data?.constructor?.name ?? typeof t.data}, the variable needs a Float32Array`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]) || t.data.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new Error(`weights["${key}"] has shape [${t.shape}] (${t.data.length} values), the model's variable is [${shape}]`);
  }
  return t.data;
}

/** The factorized embedding and softmax among exported weights (found by their `wordBlock` maps), labelled `method` (default 'groupreduce'). */
export function factorsInWeights(weights: Record<string, TensorData>, method?: CompressionMethod): Pick<LmOptions, 'embedding' | 'softmax'> {
  const part = (layer: string) => Object.fromEntries(Object.entries(weights).filter(([k]) => k.startsWith(`${layer}/`)).map(([k, t]) => [k.slice(layer.length + 1), t]));
  const factors = (layer: 'embedding' | 'softmax') => (Object.hasOwn(weights, `${layer}/wordBlock`) ? factorizedFromWeights(part(layer), layer, method) : undefined);
  return { embedding: factors('embedding'), softmax: factors('softmax') };
}

/** The names a model's exportWeights writes: its variables' keys, and a factorized layer's word maps. */
export function exportedNames(variableKeys: string[], factorized: { embedding?: unknown; softmax?: unknown }): string[] {
  const maps = (layer: string) => [`${layer}/wordBlock`, `${layer}/wordRow`];
  return [...variableKeys, ...(factorized.embedding ? maps('embedding') : []), ...(factorized.softmax ? maps('softmax') : [])];
}

/**
 * The model rebuilt from `weights`, when they hold exactly the names it exports; else it is
 * disposed and the error names what is missing and what the model does not have.
 */
export function fittedModel<M extends { dispose(): void }>(model: M, names: string[], weights: Record<string, TensorData>, what: string): M {
  const expected = new Set(names);
  const missing = [...expected].filter((k) => !Object.hasOwn(weights, k));
  const unused = Object.keys(weights).filter((k) => !expected.has(k));
  if (missing.length === 0 && unused.length === 0) return model;
  model.dispose();
  const say = (label: string, ks: string[]) => (ks.length > 0 ? [`${label} ${ks.map((k) => `"${k}"`).join(', ')}`] : []);
  throw new Error(`weights do not fit this model (${what}): ${[...say('missing', missing), ...say('not in the model:', unused)].join('; ')}`);
}

/** Inverted dropout at `rate` with a mask drawn from rng in JS (the same on every backend), or t itself without rng. */
export function dropout(t: tf.Tensor2D, rate: number, rng: Rng | undefined): tf.Tensor2D {
  if (!rng || rate <= 0) return t;
  const keep = 1 - rate;
  const mask = new Float32Array(t.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < keep ? 1 / keep : 0;
  return tf.mul(t, tf.tensor2d(mask, t.shape));
}
