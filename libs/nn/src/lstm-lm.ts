// An LSTM language model (Zaremba et al. 2014) in tfjs-core ops: embedding → stacked LSTM → softmax.
import * as tf from '@tensorflow/tfjs-core';
import { compressionIssues, type ModelConfig, SpecError, type WeightMatrix, weightMatrices } from '@lmsweep/protocol';
import { embeddingLookup, lstmSequence, matMul, softmaxCrossEntropySum } from './ops.ts';
import { ensureGradients } from './gradients.ts';
import { lowRankParamCount, LowRankDense } from './low-rank-dense.ts';
import { phmDenseParamCount, PhmDense } from './phm.ts';
import { createRng, type Rng } from './random.ts';

export type LstmShape = Pick<ModelConfig, 'embedding' | 'hidden' | 'layers'>;

type MatrixKind = 'dense' | 'phm' | 'lowrank';

/** How a resolved model (protocol resolveModel) builds one weight matrix. */
function kindOf(model: Partial<ModelConfig>, m: WeightMatrix): MatrixKind {
  if (model.phm?.layers.includes(m.group)) return 'phm';
  if (model.lowrank?.layers.includes(m.group)) return 'lowrank';
  return 'dense';
}

function matrixParams(model: Partial<ModelConfig>, m: WeightMatrix): number {
  const kind = kindOf(model, m);
  if (kind === 'phm') return phmDenseParamCount(m.d, m.k, model.phm!.n, false);
  if (kind === 'lowrank') return lowRankParamCount(m.d, m.k, model.lowrank!.rank, false);
  return m.d * m.k;
}

/**
 * Exact trainable parameter count of an LSTM LM: embedding V·e; LSTM layer l with input width
 * d_l (e, then h) (d_l + h)·4h + 4h (one bias per gate); softmax h·V + V.
 *
 * byLayer: for a dense model `embedding`, `lstm.<l>` (the whole layer) and `softmax` (weights
 * and bias). With model.phm or model.lowrank (pass protocol's resolveModel(config)) the LSTM
 * layers are itemized: `lstm.<l>.ih` (input-to-hidden), `lstm.<l>.hh` (hidden-to-hidden),
 * `lstm.<l>.bias` (4h); PHM matrices count d·k/n + n³, rank-r ones r·(d + k). The entries never
 * overlap: they sum to total.
 */
export function lstmLmParamCount(vocab: number, model: LstmShape & Partial<ModelConfig>): { total: number; byLayer: Record<string, number> } {
  const { embedding: e, hidden: h, layers } = model;
  const byLayer: Record<string, number> = { embedding: vocab * e };
  const compressed = model.phm !== undefined || model.lowrank !== undefined;
  const mats = new Map(weightMatrices(model, vocab).map((m) => [m.name, matrixParams(model, m)]));
  for (let l = 0; l < layers; l++) {
    if (!compressed) {
      byLayer[`lstm.${l}`] = ((l === 0 ? e : h) + h) * 4 * h + 4 * h;
      continue;
    }
    byLayer[`lstm.${l}.ih`] = mats.get(`lstm.${l}.ih`)!;
    byLayer[`lstm.${l}.hh`] = mats.get(`lstm.${l}.hh`)!;
    byLayer[`lstm.${l}.bias`] = 4 * h;
  }
  byLayer['softmax'] = mats.get('softmax')! + vocab;
  return { total: Object.values(byLayer).reduce((a, b) => a + b, 0), byLayer };
}

/** One weight matrix x:[N, d] → x·W:[N, k] (no bias), dense or compressed. */
interface Projection {
  readonly variables: tf.Variable[];
  apply(x: tf.Tensor2D): tf.Tensor2D;
  /** W:[d, k] as one tensor (the dense variable itself, or a differentiable product). */
  weight(): tf.Tensor2D;
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
  wx: Projection;
  /** Recurrent weights [h, 4h]. */
  wh: Projection;
  b: tf.Variable;
}

let instances = 0;

export class LstmLm {
  readonly vocab: number;
  readonly config: ModelConfig;
  readonly embedding: tf.Variable;
  readonly lstm: LstmLayer[];
  readonly softmaxW: Projection;
  readonly softmaxB: tf.Variable;
  /** Every trainable variable, named `<layer>/<matrix>` after the model's prefix. */
  readonly variables: tf.Variable[];

  /**
   * Parameters from createRng(seed, 0): dense matrices, the embedding and the biases uniform on
   * [−initScale, initScale]; PHM matrices (config.phm) Glorot-uniform per Aᵢ and Sᵢ, rank-r ones
   * (config.lowrank) Glorot-uniform per U and V (see phm.ts, low-rank-dense.ts). Pass
   * protocol's resolveModel(trialConfig) as config: a dense model has neither section.
   */
  constructor(vocab: number, config: ModelConfig, seed: number) {
    ensureGradients();
    const issues = compressionIssues(config, vocab);
    if (issues.length) throw new SpecError(issues);
    this.vocab = vocab;
    this.config = config;
    const { embedding: e, hidden: h, layers, initScale: s } = config;
    const rng = createRng(seed, 0);
    const prefix = `lstmlm${++instances}`;
    const compressed = config.phm !== undefined || config.lowrank !== undefined;
    const param = (name: string, shape: number[]) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const init = tf.tensor(rng.fillUniform(new Float32Array(size), -s, s), shape);
      const v = tf.variable(init, true, `${prefix}/${name}`);
      init.dispose();
      return v;
    };
    const projection = (m: WeightMatrix, denseName: string): Projection => {
      const kind = kindOf(config, m);
      if (kind === 'phm') return new PhmDense({ inputSize: m.d, outputSize: m.k, n: config.phm!.n, path: config.phm!.path, rng, bias: false, name: `${prefix}/${m.name}` });
      if (kind === 'lowrank') return new LowRankDense({ inputSize: m.d, outputSize: m.k, rank: config.lowrank!.rank, rng, bias: false, name: `${prefix}/${m.name}` });
      const w = param(compressed ? `${m.name}/W` : denseName, [m.d, m.k]);
      return { variables: [w], apply: (x) => matMul(x, w as tf.Tensor as tf.Tensor2D), weight: () => w as tf.Tensor as tf.Tensor2D };
    };
    const mats = new Map(weightMatrices(config, vocab).map((m) => [m.name, m]));
    this.embedding = param('embedding/E', [vocab, e]);
    this.lstm = [];
    for (let l = 0; l < layers; l++) {
      const wx = projection(mats.get(`lstm.${l}.ih`)!, `lstm.${l}/Wx`);
      const wh = projection(mats.get(`lstm.${l}.hh`)!, `lstm.${l}/Wh`);
      this.lstm.push({ wx, wh, b: param(compressed ? `lstm.${l}.bias/b` : `lstm.${l}/b`, [4 * h]) });
    }
    this.softmaxW = projection(mats.get('softmax')!, 'softmax/W');
    this.softmaxB = param('softmax/b', [vocab]);
    this.variables = [this.embedding, ...this.lstm.flatMap((l) => [...l.wx.variables, ...l.wh.variables, l.b]), ...this.softmaxW.variables, this.softmaxB];
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
      // Input projections of all T steps in one product: [T·B, d] · [d, 4h] + b. The recurrent
      // matrix enters the fused sequence op as one [h, 4h] tensor: a compressed one is built once
      // per window (its gradient flows back to the factors), not once per step.
      const xProj = tf.add(layer.wx.apply(input), layer.b) as tf.Tensor2D;
      const seq = lstmSequence(xProj, layer.wh.weight(), state.h[l]!, state.c[l]!);
      const out = tf.slice(seq, [0, 0], [T * B, h]);
      next.h.push(tf.slice(out, [(T - 1) * B, 0], [B, h]));
      next.c.push(tf.slice(seq, [T * B, 0], [B, h]));
      input = drop(out);
    });
    const logits = tf.add(this.softmaxW.apply(input), this.softmaxB) as tf.Tensor2D;
    return { lossSum: softmaxCrossEntropySum(logits, y), state: next };
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
