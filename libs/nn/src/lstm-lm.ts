// An LSTM language model (Zaremba et al. 2014) in tfjs-core ops: embedding → stacked LSTM → softmax.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '@lmsweep/protocol';
import { embeddingLookup, lstmSequence, matMul, softmaxCrossEntropySum } from './ops.ts';
import { ensureGradients } from './gradients.ts';
import { createRng, type Rng } from './random.ts';

export type LstmShape = Pick<ModelConfig, 'embedding' | 'hidden' | 'layers'>;

/**
 * Exact trainable parameter count of an LSTM LM: embedding V·e; LSTM layer l with input width
 * d_l (e, then h) (d_l + h)·4h + 4h (one bias per gate); softmax h·V + V.
 */
export function lstmLmParamCount(vocab: number, model: LstmShape & Partial<ModelConfig>): { total: number; byLayer: Record<string, number> } {
  const { embedding: e, hidden: h, layers } = model;
  const byLayer: Record<string, number> = { embedding: vocab * e };
  for (let l = 0; l < layers; l++) byLayer[`lstm.${l}`] = ((l === 0 ? e : h) + h) * 4 * h + 4 * h;
  byLayer['softmax'] = h * vocab + vocab;
  return { total: Object.values(byLayer).reduce((a, b) => a + b, 0), byLayer };
}

/** Hidden and cell state of every layer, each [batch, hidden]. */
export interface LstmState {
  h: tf.Tensor2D[];
  c: tf.Tensor2D[];
}

export function disposeState(s: LstmState | undefined): void {
  if (!s) return;
  for (const t of [...s.h, ...s.c]) t.dispose();
}

interface LstmLayer {
  /** Input weights [d, 4h], gate order i, f, o, g. */
  wx: tf.Variable;
  /** Recurrent weights [h, 4h]. */
  wh: tf.Variable;
  b: tf.Variable;
}

let instances = 0;

export class LstmLm {
  readonly vocab: number;
  readonly config: ModelConfig;
  readonly embedding: tf.Variable;
  readonly lstm: LstmLayer[];
  readonly softmaxW: tf.Variable;
  readonly softmaxB: tf.Variable;
  /** Every trainable variable, named `<layer>/<matrix>` after the model's prefix. */
  readonly variables: tf.Variable[];

  /** Parameters uniform on [−initScale, initScale] from createRng(seed, 0). */
  constructor(vocab: number, config: ModelConfig, seed: number) {
    ensureGradients();
    this.vocab = vocab;
    this.config = config;
    const { embedding: e, hidden: h, layers, initScale: s } = config;
    const rng = createRng(seed, 0);
    const prefix = `lstmlm${++instances}`;
    const param = (name: string, shape: number[]) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const init = tf.tensor(rng.fillUniform(new Float32Array(size), -s, s), shape);
      const v = tf.variable(init, true, `${prefix}/${name}`);
      init.dispose();
      return v;
    };
    this.embedding = param('embedding/E', [vocab, e]);
    this.lstm = [];
    for (let l = 0; l < layers; l++) {
      this.lstm.push({ wx: param(`lstm.${l}/Wx`, [l === 0 ? e : h, 4 * h]), wh: param(`lstm.${l}/Wh`, [h, 4 * h]), b: param(`lstm.${l}/b`, [4 * h]) });
    }
    this.softmaxW = param('softmax/W', [h, vocab]);
    this.softmaxB = param('softmax/b', [vocab]);
    this.variables = [this.embedding, ...this.lstm.flatMap((l) => [l.wx, l.wh, l.b]), this.softmaxW, this.softmaxB];
  }

  paramCount(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  zeroState(batch: number): LstmState {
    const h = this.config.hidden;
    return {
      h: this.lstm.map(() => tf.zeros([batch, h]) as tf.Tensor2D),
      c: this.lstm.map(() => tf.zeros([batch, h]) as tf.Tensor2D),
    };
  }

  /**
   * One window: x, y:[T·B] time-major token ids, state per layer [B,h] →
   * lossSum (scalar Σ NLL over the T·B targets) and the final state (fresh tensors; the caller
   * keeps or disposes them). With dropoutRng, dropout (rate config.dropout) on the
   * non-recurrent connections (Zaremba): the embedding output, between layers, before the softmax.
   */
  forward(x: Int32Array, y: Int32Array, batch: number, state: LstmState, dropoutRng?: Rng): { lossSum: tf.Scalar; state: LstmState } {
    const B = batch;
    const T = x.length / B;
    if (!Number.isInteger(T) || y.length !== x.length) throw new Error(`forward: ${x.length} inputs, ${y.length} targets, batch ${B}`);
    const { hidden: h, dropout } = this.config;
    const drop = (t: tf.Tensor2D): tf.Tensor2D => {
      if (!dropoutRng || dropout <= 0) return t;
      const keep = 1 - dropout;
      const mask = new Float32Array(t.size);
      for (let i = 0; i < mask.length; i++) mask[i] = dropoutRng.next() < keep ? 1 / keep : 0;
      return tf.mul(t, tf.tensor2d(mask, t.shape));
    };
    let input = drop(embeddingLookup(this.embedding as tf.Tensor as tf.Tensor2D, x));
    const next: LstmState = { h: [], c: [] };
    this.lstm.forEach((layer, l) => {
      // Input projections of all T steps in one matmul: [T·B, d] · [d, 4h] + b.
      const xProj = tf.add(matMul(input, layer.wx as tf.Tensor as tf.Tensor2D), layer.b) as tf.Tensor2D;
      const seq = lstmSequence(xProj, layer.wh as tf.Tensor as tf.Tensor2D, state.h[l]!, state.c[l]!);
      const out = tf.slice(seq, [0, 0], [T * B, h]);
      next.h.push(tf.slice(out, [(T - 1) * B, 0], [B, h]));
      next.c.push(tf.slice(seq, [T * B, 0], [B, h]));
      input = drop(out);
    });
    const logits = tf.add(matMul(input, this.softmaxW as tf.Tensor as tf.Tensor2D), this.softmaxB) as tf.Tensor2D;
    return { lossSum: softmaxCrossEntropySum(logits, y), state: next };
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
