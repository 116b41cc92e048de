// The language model a trial trains, whichever its architecture (model.arch): what the training
// loop, evaluation and checkpoints need of it, and the constructors that pick the class.
import type * as tf from '@tensorflow/tfjs-core';
import type { CompressionMethod } from '@lmsweep/algorithms';
import { archOf, type ModelConfig } from '@lmsweep/protocol';
import type { TensorData } from './checkpoint.ts';
import type { FactorizedEmbedding, FactorizedSoftmax } from './factorized.ts';
import type { FactorizedParams, LmOptions, LstmState } from './lm-parts.ts';
import { LstmLm, lstmLmParamCount } from './lstm-lm.ts';
import type { Rng } from './random.ts';
import { TransformerLm, transformerLmParamCount } from './transformer-lm.ts';

/** What LstmLm and TransformerLm both are. */
export interface LanguageModel {
  readonly vocab: number;
  readonly config: ModelConfig;
  readonly variables: tf.Variable[];
  readonly factorized: { embedding?: FactorizedEmbedding; softmax?: FactorizedSoftmax };
  /** The longest window forward() takes (a Transformer's context; evaluation reads windows of it), or undefined: any (an LSTM carries its state). */
  readonly context?: number;
  variableKeys(): string[];
  exportWeights(): Record<string, TensorData>;
  factorizedParams(): FactorizedParams;
  paramCount(): number;
  zeroState(batch: number): LstmState;
  forward(x: Int32Array, y: Int32Array, batch: number, state: LstmState, dropoutRng?: Rng): { lossSum: tf.Scalar; state: LstmState };
  dispose(): void;
}

/** A new model of config's architecture; context (training.unroll) sizes a Transformer's positions. */
export function createLanguageModel(vocab: number, config: ModelConfig, seed: number, opts: LmOptions & { context: number }): LanguageModel {
  if (archOf(config) === 'transformer') return new TransformerLm(vocab, config, seed, opts);
  const { context: _, ...rest } = opts;
  return new LstmLm(vocab, config, seed, rest);
}

/** A model rebuilt from exportWeights() output (LstmLm.fromWeights, TransformerLm.fromWeights). */
export function languageModelFromWeights(vocab: number, config: ModelConfig, weights: Record<string, TensorData>, opts: { method?: CompressionMethod; context: number }): LanguageModel {
  if (archOf(config) === 'transformer') return TransformerLm.fromWeights(vocab, config, weights, opts);
  return LstmLm.fromWeights(vocab, config, weights, opts.method ? { method: opts.method } : {});
}

/** Exact trainable parameters by layer (lstmLmParamCount, transformerLmParamCount). */
export function languageModelParamCount(vocab: number, config: ModelConfig, context: number, factorized: FactorizedParams = {}): { total: number; byLayer: Record<string, number> } {
  return archOf(config) === 'transformer' ? transformerLmParamCount(vocab, config, context, factorized) : lstmLmParamCount(vocab, config, factorized);
}
