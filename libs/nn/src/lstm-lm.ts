// An LSTM language model (Zaremba et al. 2014) in tfjs-core ops: embedding → stacked LSTM → softmax.
import * as tf from '@tensorflow/tfjs-core';
import type { CompressionMethod } from '@lmsweep/algorithms';
import { compressionIssues, type ModelConfig, SpecError, type WeightMatrix, weightMatrices } from '@lmsweep/protocol';
import type { TensorData } from './checkpoint.ts';
import { checkFactorized, FactorizedEmbedding, FactorizedSoftmax } from './factorized.ts';
import { ensureGradients } from './gradients.ts';
import { dropout, type EmbeddingLayer, exportedNames, type FactorizedParams, factorsInWeights, fittedModel, kindOf, type LmOptions, type LstmState, makeProjection, matrixParams, type Projection, projectionSoftmax, type SoftmaxLayer, weightData } from './lm-parts.ts';
import { embeddingLookup, lstmSequence } from './ops.ts';
import { createRng, type Rng } from './random.ts';

export { disposeState, type EmbeddingLayer, type FactorizedParams, type LstmState, type SoftmaxLayer } from './lm-parts.ts';
export type LstmLmOptions = LmOptions;

export type LstmShape = Pick<ModelConfig, 'embedding' | 'hidden' | 'layers'>;

/**
 * Exact trainable parameter count of an LSTM LM: embedding V·e; LSTM layer l with input width
 * d_l (e, then h) (d_l + h)·4h + 4h (one bias per gate); softmax h·V + V.
 *
 * byLayer: for a dense model `embedding`, `lstm.<l>` (the whole layer) and `softmax` (weights
 * and bias). With model.phm or model.lowrank (pass protocol's resolveModel(config)) the LSTM
 * layers are itemized: `lstm.<l>.ih` (input-to-hidden), `lstm.<l>.hh` (hidden-to-hidden),
 * `lstm.<l>.bias` (4h); PHM matrices count d·k/n + n³, rank-r ones r·(d + k). With a factorized
 * embedding or softmax (LstmLmOptions), `embedding` is its factorization's params and `softmax`
 * its factorization's params + V (the bias). The entries never overlap: they sum to total.
 */
export function lstmLmParamCount(vocab: number, model: LstmShape & Partial<ModelConfig>, factorized: FactorizedParams = {}): { total: number; byLayer: Record<string, number> } {
  const { embedding: e, hidden: h, layers } = model;
  const byLayer: Record<string, number> = { embedding: factorized.embedding ?? vocab * e };
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
  byLayer['softmax'] = (factorized.softmax ?? mats.get('softmax')!) + vocab;
  return { total: Object.values(byLayer).reduce((a, b) => a + b, 0), byLayer };
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
  readonly embedding: EmbeddingLayer;
  readonly lstm: LstmLayer[];
  readonly softmax: SoftmaxLayer;
  /** The factorized embedding / softmax, when built with LstmLmOptions.embedding / .softmax. */
  readonly factorized: { embedding?: FactorizedEmbedding; softmax?: FactorizedSoftmax };
  /** Every trainable variable, named `<layer>/<matrix>` after the model's prefix. */
  readonly variables: tf.Variable[];
  private readonly prefix: string;

  /**
   * Parameters from createRng(seed, 0): dense matrices, the embedding and the biases uniform on
   * [−initScale, initScale]; PHM matrices (config.phm) Glorot-uniform per Aᵢ and Sᵢ, rank-r ones
   * (config.lowrank) Glorot-uniform per U and V (see phm.ts, low-rank-dense.ts). Pass
   * protocol's resolveModel(trialConfig) as config: a dense model has neither section.
   * opts.embedding / opts.softmax replace the dense embedding / softmax weight by trainable
   * factors; the random stream is drawn as for the dense model, so every other parameter is
   * the same. opts.weights then overwrites the variables it names.
   */
  constructor(vocab: number, config: ModelConfig, seed: number, opts: LmOptions = {}) {
    ensureGradients();
    const issues = compressionIssues(config, vocab);
    if (issues.length) throw new SpecError(issues);
    this.vocab = vocab;
    this.config = config;
    const { embedding: e, hidden: h, layers, initScale: s } = config;
    const weights = opts.weights ?? {};
    const rng = createRng(seed, 0);
    const prefix = `lstmlm${++instances}`;
    this.prefix = prefix;
    const compressed = config.phm !== undefined || config.lowrank !== undefined;
    const mats = new Map(weightMatrices(config, vocab).map((m) => [m.name, m]));
    const fe = opts.embedding;
    const fs = opts.softmax;
    if (fe && (fe.N !== vocab || fe.D !== e)) throw new Error(`embedding factors are ${fe.N}×${fe.D}, the model's table is vocab ${vocab} × embedding ${e}`);
    if (fs && (fs.N !== vocab || fs.D !== h)) throw new Error(`softmax factors are ${fs.N}×${fs.D}, the model's A = Wᵀ is vocab ${vocab} × hidden ${h}`);
    if (fs && kindOf(config, mats.get('softmax')!) !== 'dense') throw new Error(`a factorized softmax replaces the dense one: drop 'output' from config.${kindOf(config, mats.get('softmax')!)}.layers`);
    // Checked before any variable exists; the other weights are checked as they are assigned.
    if (fe) checkFactorized(fe, 'embedding factors');
    if (fs) checkFactorized(fs, 'softmax factors');
    const givenBias = fs ? weightData(weights, 'softmax/b', [vocab]) : undefined;
    const draw = (shape: number[]) => rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), -s, s);
    const param = (name: string, shape: number[]) => {
      const init = tf.tensor(draw(shape), shape);
      const v = tf.variable(init, true, `${prefix}/${name}`);
      init.dispose();
      return v;
    };
    const projection = (m: WeightMatrix, denseName: string): Projection => makeProjection(config, m, rng, prefix, () => param(compressed ? `${m.name}/W` : denseName, [m.d, m.k]));
    this.factorized = {};
    if (fe) {
      draw([vocab, e]);
      this.embedding = this.factorized.embedding = new FactorizedEmbedding(fe, `${prefix}/embedding`);
    } else {
      const table = param('embedding/E', [vocab, e]) as tf.Tensor as tf.Tensor2D;
      this.embedding = { variables: [table as tf.Variable], lookup: (ids) => embeddingLookup(table, ids) };
    }
    this.lstm = [];
    for (let l = 0; l < layers; l++) {
      const wx = projection(mats.get(`lstm.${l}.ih`)!, `lstm.${l}/Wx`);
      const wh = projection(mats.get(`lstm.${l}.hh`)!, `lstm.${l}/Wh`);
      this.lstm.push({ wx, wh, b: param(compressed ? `lstm.${l}.bias/b` : `lstm.${l}/b`, [4 * h]) });
    }
    if (fs) {
      draw([h, vocab]);
      const drawn = draw([vocab]);
      this.softmax = this.factorized.softmax = new FactorizedSoftmax(fs, givenBias ?? drawn, `${prefix}/softmax`);
    } else {
      const w = projection(mats.get('softmax')!, 'softmax/W');
      const b = param('softmax/b', [vocab]);
      this.softmax = projectionSoftmax(w, b, kindOf(config, mats.get('softmax')!) === 'dense', [...w.variables, b]);
    }
    this.variables = [...this.embedding.variables, ...this.lstm.flatMap((l) => [...l.wx.variables, ...l.wh.variables, l.b]), ...this.softmax.variables];
    try {
      for (const v of this.variables) {
        // a factorized softmax took its bias (word order) above; its variable is in block order
        if (fs && v === this.factorized.softmax!.b) continue;
        const data = weightData(weights, this.keyOf(v), v.shape);
        if (data) tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
      }
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /**
   * A model rebuilt from exportWeights() output (e.g. a decoded checkpoint's tensors) of any
   * kind: dense, PHM, low-rank (config says which) and factorized embedding/softmax (detected
   * from their `wordBlock` maps). Every variable must be present and every name used. `method`
   * labels the rebuilt factorizations (it is not part of the weights; default 'groupreduce').
   */
  static fromWeights(vocab: number, config: ModelConfig, weights: Record<string, TensorData>, opts: { method?: CompressionMethod } = {}): LstmLm {
    const model = new LstmLm(vocab, config, 0, { weights, ...factorsInWeights(weights, opts.method) });
    return fittedModel(model, model.weightNames(), weights, `vocab ${vocab}, ${JSON.stringify(config)}`);
  }

  /** A variable's name without the per-instance prefix: `embedding/E`, `lstm.0/Wx`, `softmax/Vt.3`, … */
  private keyOf(v: tf.Variable): string {
    return v.name.slice(this.prefix.length + 1);
  }

  /** Every variable's name without the instance prefix, in `variables` order (for state kept per variable: optimizer slots). */
  variableKeys(): string[] {
    return this.variables.map((v) => this.keyOf(v));
  }

  /** The names exportWeights writes. */
  private weightNames(): string[] {
    return exportedNames(this.variableKeys(), this.factorized);
  }

  /**
   * Every parameter by name without the instance prefix (fresh arrays): variables as they are
   * (`embedding/E`, `lstm.<l>/Wx`, `lstm.<l>/Wh`, `lstm.<l>/b`, `softmax/W`, `softmax/b` for a
   * dense model; PHM and low-rank matrices `<matrix>/A`, `/S`, `/U`, `/V`); a factorized layer
   * adds its I32 word maps `<layer>/wordBlock`, `<layer>/wordRow`, and a factorized softmax
   * exports `softmax/b` in word order. LstmLm.fromWeights rebuilds the model.
   */
  exportWeights(): Record<string, TensorData> {
    const out: Record<string, TensorData> = {};
    const layer = (vars: tf.Variable[], f: FactorizedEmbedding | FactorizedSoftmax | undefined, name: string) => {
      if (f) for (const [k, t] of Object.entries(f.exportWeights())) out[`${name}/${k}`] = t;
      else for (const v of vars) out[this.keyOf(v)] = { shape: [...v.shape], data: (v.dataSync() as Float32Array).slice() };
    };
    layer(this.embedding.variables, this.factorized.embedding, 'embedding');
    layer(this.lstm.flatMap((l) => [...l.wx.variables, ...l.wh.variables, l.b]), undefined, 'lstm');
    layer(this.softmax.variables, this.factorized.softmax, 'softmax');
    return out;
  }

  /** The factorizations' parameter counts, for lstmLmParamCount. */
  factorizedParams(): FactorizedParams {
    const { embedding, softmax } = this.factorized;
    return { ...(embedding && { embedding: embedding.paramCount() }), ...(softmax && { softmax: softmax.paramCount() - this.vocab }) };
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
    const { hidden: h, dropout: rate } = this.config;
    const drop = (t: tf.Tensor2D) => dropout(t, rate, dropoutRng);
    let input = drop(this.embedding.lookup(x));
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
    return { lossSum: this.softmax.lossSum(input, y), state: next };
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
