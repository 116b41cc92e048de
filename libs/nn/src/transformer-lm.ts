// A decoder-only Transformer language model in tfjs-core ops, pre-norm (GPT-2's layout):
// token embedding + positions → blocks of x + attn(LN(x)) and x + ffn(LN(x)) → LN → softmax.
// Rows are time-major (row t·B + b), as the LSTM's, so both train on the same batches.
import * as tf from '@tensorflow/tfjs-core';
import type { CompressionMethod } from '@lmsweep/algorithms';
import { compressionIssues, type ModelConfig, SpecError, type TransformerShape, transformerShape, type WeightMatrix, weightMatrices } from '@lmsweep/protocol';
import type { TensorData } from './checkpoint.ts';
import { checkFactorized, FactorizedEmbedding, FactorizedSoftmax } from './factorized.ts';
import { ensureGradients } from './gradients.ts';
import { dropout, type EmbeddingLayer, exportedNames, type FactorizedParams, factorsInWeights, fittedModel, kindOf, type LmOptions, type LstmState, makeProjection, matrixParams, type Projection, projectionSoftmax, type SoftmaxLayer, weightData } from './lm-parts.ts';
import { embeddingLookup, matMul, matMulBias } from './ops.ts';
import { createRng, type Rng } from './random.ts';
import { causalAttention, gelu, layerNorm } from './transformer-ops.ts';

/**
 * Exact trainable parameter count of a Transformer LM with model width d, feed-forward width f,
 * context T (training.unroll), vocabulary V. byLayer: `embedding` V·d (a factorization's params
 * when factorized); `positions` T·d (learned positions only); per block l, `block.<l>.ln1` and
 * `block.<l>.ln2` 2d each, and each matrix with its bias: `block.<l>.q|k|v|o` (d·d, or its PHM
 * d·d/n + n³ or rank-r r·2d, + d), `block.<l>.ffn.in` (d·f + f), `block.<l>.ffn.out` (f·d + d);
 * `norm` (the final LN) 2d; `softmax` d·V + V (a factorization's params + V; tied: V, the bias:
 * its weight is the embedding's). The entries never overlap: they sum to total.
 */
export function transformerLmParamCount(vocab: number, model: ModelConfig, context: number, factorized: FactorizedParams = {}): { total: number; byLayer: Record<string, number> } {
  const t = transformerShape(model);
  const { d } = t;
  const byLayer: Record<string, number> = { embedding: factorized.embedding ?? vocab * d };
  if (t.positions === 'learned') byLayer['positions'] = context * d;
  const mats = weightMatrices(model, vocab);
  for (let l = 0; l < t.layers; l++) {
    byLayer[`block.${l}.ln1`] = 2 * d;
    byLayer[`block.${l}.ln2`] = 2 * d;
    for (const m of mats.filter((x) => x.name.startsWith(`block.${l}.`))) byLayer[m.name] = matrixParams(model, m) + m.k;
  }
  byLayer['norm'] = 2 * d;
  const softmax = mats.find((m) => m.name === 'softmax');
  byLayer['softmax'] = (t.tied ? 0 : (factorized.softmax ?? matrixParams(model, softmax!))) + vocab;
  return { total: Object.values(byLayer).reduce((a, b) => a + b, 0), byLayer };
}

/** x:[n, d] → x·W + b, the projection and its bias; a dense one runs as one op (matMulBias). */
interface Affine {
  w: Projection;
  b: tf.Variable;
  dense: boolean;
}

interface Block {
  ln1: { g: tf.Variable; b: tf.Variable };
  q: Affine;
  k: Affine;
  v: Affine;
  o: Affine;
  ln2: { g: tf.Variable; b: tf.Variable };
  ffnIn: Affine;
  ffnOut: Affine;
}

const affine = (a: Affine, x: tf.Tensor2D) => (a.dense ? matMulBias(x, a.w.weight(), a.b as tf.Tensor as tf.Tensor1D) : (tf.add(a.w.apply(x), a.b) as tf.Tensor2D));

/** Vaswani et al.'s sinusoids for `rows` time-major rows of batch B: row t·B + b holds PE(t), PE(t, 2i) = sin(t/10000^(2i/d)), PE(t, 2i+1) = cos(·). */
function sinusoids(rows: number, batch: number, d: number): Float32Array {
  const out = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const t = Math.floor(r / batch);
    for (let i = 0; i < d; i += 2) {
      const angle = t / 10000 ** (i / d);
      out[r * d + i] = Math.sin(angle);
      if (i + 1 < d) out[r * d + i + 1] = Math.cos(angle);
    }
  }
  return out;
}

let instances = 0;

export interface TransformerLmOptions extends LmOptions {
  /** The longest window the model reads, in tokens (training.unroll): the learned position table's rows. */
  context: number;
}

export class TransformerLm {
  readonly vocab: number;
  readonly config: ModelConfig;
  readonly shape: TransformerShape;
  /** The longest window forward() takes (evaluation reads windows of this length). */
  readonly context: number;
  readonly embedding: EmbeddingLayer;
  /** The learned position table [context, d] (positions 'learned'). */
  readonly positions: tf.Variable | undefined;
  readonly blocks: Block[];
  readonly norm: { g: tf.Variable; b: tf.Variable };
  readonly softmax: SoftmaxLayer;
  readonly factorized: { embedding?: FactorizedEmbedding; softmax?: FactorizedSoftmax };
  /** Every trainable variable, named `<layer>/<matrix>` after the model's prefix. */
  readonly variables: tf.Variable[];
  private readonly prefix: string;
  private readonly sinusoidCache = new Map<string, Float32Array>();

  /**
   * Parameters from createRng(seed, 0): dense matrices, the embedding and the learned positions
   * uniform on [−initScale, initScale], biases 0, layer norms γ = 1, β = 0; PHM and rank-r
   * matrices (config.phm, config.lowrank: their layer groups attention, ffn, output)
   * Glorot-uniform per factor. Pass protocol's resolveModel(trialConfig) as config.
   * opts.embedding / opts.softmax replace the dense embedding / softmax weight by trainable
   * factors (not with model.tied); opts.weights then overwrites the variables it names.
   */
  constructor(vocab: number, config: ModelConfig, seed: number, opts: TransformerLmOptions) {
    ensureGradients();
    const issues = compressionIssues(config, vocab);
    if (issues.length) throw new SpecError(issues);
    if (!Number.isInteger(opts.context) || opts.context < 1) throw new Error(`TransformerLm: context ${opts.context} must be a positive integer (training.unroll)`);
    const shape = transformerShape(config);
    const { d, layers, tied } = shape;
    const fe = opts.embedding;
    const fs = opts.softmax;
    if (tied && (fe || fs)) throw new Error('a tied model (model.tied) has one embedding-and-softmax matrix: it is not factorized here');
    if (fe && (fe.N !== vocab || fe.D !== d)) throw new Error(`embedding factors are ${fe.N}×${fe.D}, the model's table is vocab ${vocab} × width ${d}`);
    if (fs && (fs.N !== vocab || fs.D !== d)) throw new Error(`softmax factors are ${fs.N}×${fs.D}, the model's A = Wᵀ is vocab ${vocab} × width ${d}`);
    const mats = new Map(weightMatrices(config, vocab).map((m) => [m.name, m]));
    if (fs && kindOf(config, mats.get('softmax')!) !== 'dense') throw new Error(`a factorized softmax replaces the dense one: drop 'output' from config.${kindOf(config, mats.get('softmax')!)}.layers`);
    if (fe) checkFactorized(fe, 'embedding factors');
    if (fs) checkFactorized(fs, 'softmax factors');
    this.vocab = vocab;
    this.config = config;
    this.shape = shape;
    this.context = opts.context;
    const weights = opts.weights ?? {};
    const givenBias = fs ? weightData(weights, 'softmax/b', [vocab]) : undefined;
    const rng = createRng(seed, 0);
    const prefix = `transformerlm${++instances}`;
    this.prefix = prefix;
    const s = config.initScale;
    const variable = (name: string, shape: number[], init: (n: number) => Float32Array) => {
      const t = tf.tensor(init(shape.reduce((a, b) => a * b, 1)), shape);
      const v = tf.variable(t, true, `${prefix}/${name}`);
      t.dispose();
      return v;
    };
    const uniform = (name: string, shape: number[]) => variable(name, shape, (n) => rng.fillUniform(new Float32Array(n), -s, s));
    const filled = (name: string, shape: number[], value: number) => variable(name, shape, (n) => new Float32Array(n).fill(value));
    const proj = (m: WeightMatrix): Affine => ({ w: makeProjection(config, m, rng, prefix, () => uniform(`${m.name}/W`, [m.d, m.k])), b: filled(`${m.name}/b`, [m.k], 0), dense: kindOf(config, m) === 'dense' });
    const norm = (name: string) => ({ g: filled(`${name}/g`, [d], 1), b: filled(`${name}/b`, [d], 0) });

    this.factorized = {};
    let table: tf.Variable | undefined;
    // A factorized layer still draws what its dense form would, so every other parameter is the dense model's.
    const skip = (n: number) => void rng.fillUniform(new Float32Array(n), -s, s);
    if (fe) {
      skip(vocab * d);
      this.embedding = this.factorized.embedding = new FactorizedEmbedding(fe, `${prefix}/embedding`);
    } else {
      table = uniform('embedding/E', [vocab, d]);
      const e = table as tf.Tensor as tf.Tensor2D;
      this.embedding = { variables: [table], lookup: (ids) => embeddingLookup(e, ids) };
    }
    this.positions = shape.positions === 'learned' ? uniform('positions/P', [opts.context, d]) : undefined;
    this.blocks = [];
    for (let l = 0; l < layers; l++) {
      const m = (p: string) => mats.get(`block.${l}.${p}`)!;
      const ln1 = norm(`block.${l}.ln1`);
      const [q, k, v, o] = [proj(m('q')), proj(m('k')), proj(m('v')), proj(m('o'))];
      const ln2 = norm(`block.${l}.ln2`);
      this.blocks.push({ ln1, q, k, v, o, ln2, ffnIn: proj(m('ffn.in')), ffnOut: proj(m('ffn.out')) });
    }
    this.norm = norm('norm');
    if (tied) {
      // The softmax weight is Eᵀ: [d, V], transposed per window (its gradient flows into E).
      const b = filled('softmax/b', [vocab], 0);
      const e = table as tf.Tensor as tf.Tensor2D;
      const w = { apply: (x: tf.Tensor2D) => matMul(x, tf.transpose(e)), weight: () => tf.transpose(e) as tf.Tensor2D };
      this.softmax = projectionSoftmax(w, b, true, [b]);
    } else if (fs) {
      skip(d * vocab);
      this.softmax = this.factorized.softmax = new FactorizedSoftmax(fs, givenBias ?? new Float32Array(vocab), `${prefix}/softmax`);
    } else {
      const sm = proj(mats.get('softmax')!);
      this.softmax = projectionSoftmax(sm.w, sm.b, kindOf(config, mats.get('softmax')!) === 'dense', [...sm.w.variables, sm.b]);
    }
    const normVars = (n: { g: tf.Variable; b: tf.Variable }) => [n.g, n.b];
    const affineVars = (a: Affine) => [...a.w.variables, a.b];
    this.variables = [
      ...this.embedding.variables,
      ...(this.positions ? [this.positions] : []),
      ...this.blocks.flatMap((b) => [...normVars(b.ln1), ...[b.q, b.k, b.v, b.o].flatMap(affineVars), ...normVars(b.ln2), ...affineVars(b.ffnIn), ...affineVars(b.ffnOut)]),
      ...normVars(this.norm),
      ...this.softmax.variables,
    ];
    try {
      for (const v of this.variables) {
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
   * A model rebuilt from exportWeights() output; its context is the learned position table's
   * rows, or opts.context with sinusoids. Every variable must be present and every name used.
   */
  static fromWeights(vocab: number, config: ModelConfig, weights: Record<string, TensorData>, opts: { method?: CompressionMethod; context?: number } = {}): TransformerLm {
    const table = Object.hasOwn(weights, 'positions/P') ? weights['positions/P'] : undefined;
    const context = table?.shape[0] ?? opts.context;
    if (context === undefined) throw new Error('TransformerLm.fromWeights: sinusoidal positions need opts.context (training.unroll)');
    const model = new TransformerLm(vocab, config, 0, { weights, context, ...factorsInWeights(weights, opts.method) });
    return fittedModel(model, model.weightNames(), weights, `vocab ${vocab}, ${JSON.stringify(config)}`);
  }

  private keyOf(v: tf.Variable): string {
    return v.name.slice(this.prefix.length + 1);
  }

  /** Every variable's name without the instance prefix, in `variables` order. */
  variableKeys(): string[] {
    return this.variables.map((v) => this.keyOf(v));
  }

  /** The names exportWeights writes. */
  private weightNames(): string[] {
    return exportedNames(this.variableKeys(), this.factorized);
  }

  /**
   * Every parameter by name without the instance prefix (fresh arrays): `embedding/E`,
   * `positions/P`, `block.<l>.ln1/g|b`, `block.<l>.q|k|v|o/W|b` (PHM `/A`, `/S`, rank-r `/U`,
   * `/V`), `block.<l>.ln2/g|b`, `block.<l>.ffn.in|out/W|b`, `norm/g|b`, `softmax/W|b` (tied:
   * `softmax/b` only); a factorized layer exports its factors and word maps instead.
   */
  exportWeights(): Record<string, TensorData> {
    const out: Record<string, TensorData> = {};
    const { embedding, softmax } = this.factorized;
    for (const v of this.variables) {
      const key = this.keyOf(v);
      if ((embedding && key.startsWith('embedding/')) || (softmax && key.startsWith('softmax/'))) continue;
      out[key] = { shape: [...v.shape], data: (v.dataSync() as Float32Array).slice() };
    }
    if (embedding) for (const [k, t] of Object.entries(embedding.exportWeights())) out[`embedding/${k}`] = t;
    if (softmax) for (const [k, t] of Object.entries(softmax.exportWeights())) out[`softmax/${k}`] = t;
    return out;
  }

  /** The factorizations' parameter counts, for transformerLmParamCount. */
  factorizedParams(): FactorizedParams {
    const { embedding, softmax } = this.factorized;
    return { ...(embedding && { embedding: embedding.paramCount() }), ...(softmax && { softmax: softmax.paramCount() - this.vocab }) };
  }

  paramCount(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  /** Nothing carries across windows: each is its own context. */
  zeroState(_batch: number): LstmState {
    return { h: [], c: [] };
  }

  /** Rows of the positions for a T·B window: the learned table's rows (differentiable), or sinusoids. */
  private positionRows(T: number, B: number): tf.Tensor2D {
    if (this.positions) return embeddingLookup(this.positions as tf.Tensor as tf.Tensor2D, Int32Array.from({ length: T * B }, (_, r) => Math.floor(r / B)));
    const key = `${T}x${B}`;
    let pe = this.sinusoidCache.get(key);
    if (!pe) this.sinusoidCache.set(key, (pe = sinusoids(T * B, B, this.shape.d)));
    return tf.tensor2d(pe, [T * B, this.shape.d]);
  }

  /**
   * One window: x, y:[T·B] time-major token ids (T ≤ context) → lossSum (Σ NLL over the T·B
   * targets), each token attending to those before it in its window. With dropoutRng, dropout
   * (config.dropout) on the embedding and on each block's two residual branches. `state` is
   * ignored (zeroState's): the returned one is empty too.
   */
  forward(x: Int32Array, y: Int32Array, batch: number, _state: LstmState, dropoutRng?: Rng): { lossSum: tf.Scalar; state: LstmState } {
    const B = batch;
    const T = x.length / B;
    if (!Number.isInteger(T) || T < 1 || y.length !== x.length) throw new Error(`forward: ${x.length} inputs, ${y.length} targets, batch ${B}`);
    if (T > this.context) throw new Error(`forward: a window of ${T} tokens exceeds the model's context ${this.context} (training.unroll)`);
    const { heads, positions, d } = this.shape;
    const rate = this.config.dropout;
    const drop = (t: tf.Tensor2D) => dropout(t, rate, dropoutRng);
    const tokens = this.embedding.lookup(x);
    // Vaswani et al. scale the embedding by √d beside fixed sinusoids (§3.4); a learned table is added as is (GPT-2).
    let h = drop(tf.add(positions === 'sinusoidal' ? tf.mul(tokens, Math.sqrt(d)) : tokens, this.positionRows(T, B)) as tf.Tensor2D);
    for (const blk of this.blocks) {
      const a = layerNorm(h, blk.ln1.g as tf.Tensor as tf.Tensor1D, blk.ln1.b as tf.Tensor as tf.Tensor1D);
      const att = causalAttention(affine(blk.q, a), affine(blk.k, a), affine(blk.v, a), B, heads);
      h = tf.add(h, drop(affine(blk.o, att))) as tf.Tensor2D;
      const m = layerNorm(h, blk.ln2.g as tf.Tensor as tf.Tensor1D, blk.ln2.b as tf.Tensor as tf.Tensor1D);
      h = tf.add(h, drop(affine(blk.ffnOut, gelu(affine(blk.ffnIn, m))))) as tf.Tensor2D;
    }
    const out = layerNorm(h, this.norm.g as tf.Tensor as tf.Tensor1D, this.norm.b as tf.Tensor as tf.Tensor1D);
    return { lossSum: this.softmax.lossSum(out, y), state: { h: [], c: [] } };
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

