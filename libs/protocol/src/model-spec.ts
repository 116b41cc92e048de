// The model a trial trains: its architecture (Zaremba's LSTM or a decoder-only Transformer), its
// sizes, the weight matrices the PHM and low-rank methods may replace, and why a model as
// configured cannot be built (every message names its field).
import { z } from 'zod';
import type { FieldIssue } from './spec-error.ts';

const posInt = (max: number) => z.number().int().min(1).max(max);

/**
 * Weight matrices a compression method replaces, by group. An LSTM's: 'gates', in every layer l
 * both gate matrices, input-to-hidden lstm.l.ih (in_l → 4h, in_l = embedding for l = 0, else
 * hidden) and hidden-to-hidden lstm.l.hh (h → 4h). A Transformer's: 'attention', in every block
 * l the projections block.l.q, .k, .v, .o (d → d), and 'ffn', block.l.ffn.in (d → ffn) and
 * block.l.ffn.out (ffn → d). Both: 'output', the softmax projection (h → vocabulary). The
 * embedding table is never replaced (the compression methods, GroupReduce and its baselines,
 * factorize it instead).
 */
export const COMPRESSIBLE_LAYERS = ['gates', 'attention', 'ffn', 'output'] as const;
export const CompressibleLayer = z.enum(COMPRESSIBLE_LAYERS);
export type CompressibleLayer = z.infer<typeof CompressibleLayer>;

export const ARCHITECTURES = ['lstm', 'transformer'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** The layer groups each architecture has. */
export const ARCH_LAYER_GROUPS: Readonly<Record<Architecture, readonly CompressibleLayer[]>> = {
  lstm: ['gates', 'output'],
  transformer: ['attention', 'ffn', 'output'],
};

const layerList = z
  .array(CompressibleLayer)
  .min(1)
  .max(COMPRESSIBLE_LAYERS.length)
  .refine((ls) => new Set(ls).size === ls.length, 'each layer group at most once')
  .default(['gates']);

/**
 * method 'phm': each chosen matrix W:[d, k] becomes Σᵢ₌₁ⁿ Aᵢ⊗Sᵢ (d·k/n + n³ parameters).
 * n must divide the input and output size of every chosen matrix (checked at launch, at every
 * grid point). In a spec:
 *   method: phm
 *   model: { embedding: 200, hidden: 200, layers: 2, phm: { n: 4, layers: [gates, output] } }
 *   grid: { model.phm.n: [2, 4, 8] }        # or method: [dense, phm, lowrank] beside model.lowrank.rank
 * layers defaults to [gates], an LSTM's: a Transformer names its groups (attention, ffn, output).
 */
export const PhmOptions = z
  .object({
    n: posInt(64).default(4),
    layers: layerList,
    /** Which product the PHM layers use; 'auto' picks the faster one for the batch at hand. */
    path: z.enum(['auto', 'materialized', 'factored']).default('auto'),
  })
  .strict();
export type PhmOptions = z.infer<typeof PhmOptions>;

/** method 'lowrank': each chosen matrix W:[d, k] becomes U:[d, r]·V:[r, k] (r·(d + k) parameters), r ≤ min(d, k). */
export const LowRankOptions = z
  .object({
    rank: posInt(8192).default(32),
    layers: layerList,
  })
  .strict();
export type LowRankOptions = z.infer<typeof LowRankOptions>;

export const POSITION_KINDS = ['learned', 'sinusoidal'] as const;

/** The Transformer's own fields: absent from an LSTM's config, so an LSTM trial's config is what it always was. */
const TRANSFORMER_FIELDS = ['heads', 'ffn', 'positions', 'tied'] as const;

export const ModelConfig = z
  .object({
    /**
     * 'lstm' (absent: the default), Zaremba's stacked LSTM; 'transformer', a decoder-only,
     * pre-norm Transformer (GPT-2's layout: x + attn(LN(x)), then x + ffn(LN(x)), a final LN)
     * whose context is training.unroll tokens.
     */
    arch: z.enum(ARCHITECTURES).optional(),
    /** Embedding width; a Transformer's must equal hidden. */
    embedding: posInt(8192).default(200),
    /** An LSTM's hidden size; a Transformer's model width d. */
    hidden: posInt(8192).default(200),
    /** LSTM layers, or Transformer blocks. */
    layers: posInt(8).default(2),
    /** Dropout on the non-recurrent connections (LSTM), on the embedding and each block's two residual branches (Transformer). */
    dropout: z.number().min(0).max(0.95).default(0),
    /** Uniform init range [-initScale, initScale] (Zaremba et al.) of the dense matrices, embedding and (LSTM) biases. */
    initScale: z.number().positive().max(10).default(0.1),
    /** Transformer: attention heads, dividing hidden (absent: 4). */
    heads: posInt(256).optional(),
    /** Transformer: the feed-forward width (absent: 4·hidden). */
    ffn: posInt(65536).optional(),
    /** Transformer: a learned position table [training.unroll, hidden] (absent: the default), or Vaswani's sinusoids (no parameters). */
    positions: z.enum(POSITION_KINDS).optional(),
    /** Transformer: the softmax weight is the embedding table transposed (one matrix, counted once). */
    tied: z.boolean().optional(),
    /** Options of method 'phm' (read only when the method is 'phm'; absent: the defaults). */
    phm: PhmOptions.optional(),
    /** Options of method 'lowrank' (read only when the method is 'lowrank'; absent: the defaults). */
    lowrank: LowRankOptions.optional(),
  })
  .strict();
export type ModelConfig = z.infer<typeof ModelConfig>;

export function archOf(model: Pick<ModelConfig, 'arch'>): Architecture {
  return model.arch ?? 'lstm';
}

/** A Transformer's shape with its defaults filled in: model width d, heads, feed-forward width, blocks. */
export interface TransformerShape {
  d: number;
  heads: number;
  ffn: number;
  layers: number;
  positions: (typeof POSITION_KINDS)[number];
  tied: boolean;
}

export function transformerShape(model: Pick<ModelConfig, 'hidden' | 'layers' | 'heads' | 'ffn' | 'positions' | 'tied'>): TransformerShape {
  return { d: model.hidden, heads: model.heads ?? 4, ffn: model.ffn ?? 4 * model.hidden, layers: model.layers, positions: model.positions ?? 'learned', tied: model.tied ?? false };
}

/**
 * The model a trial trains: its config's model with the options section of its method only
 * (defaults filled in when absent) and the other methods' sections dropped; the architecture's
 * fields normalized, so a default written out and one left out are one configuration: an LSTM
 * has no `arch`, a Transformer all of heads, ffn, positions and tied.
 */
export function resolveModel(config: { method: string; model: ModelConfig }): ModelConfig {
  const { phm, lowrank, arch, ...others } = config.model;
  let rest: ModelConfig = others;
  if (arch === 'transformer') {
    const t = transformerShape(others);
    rest = { arch, ...others, heads: t.heads, ffn: t.ffn, positions: t.positions, tied: t.tied };
  }
  if (config.method === 'phm') return { ...rest, phm: phm ?? PhmOptions.parse({}) };
  if (config.method === 'lowrank') return { ...rest, lowrank: lowrank ?? LowRankOptions.parse({}) };
  return rest;
}

/** One replaceable weight matrix, used as x:[·, d]·W:[d, k]. */
export interface WeightMatrix {
  /** 'lstm.<l>.ih' (input-to-hidden), 'lstm.<l>.hh' (hidden-to-hidden), 'block.<l>.q|k|v|o', 'block.<l>.ffn.in|out' or 'softmax'. */
  name: string;
  group: CompressibleLayer;
  d: number;
  k: number;
  /** How d and k read in messages: "input size 64", "output size 4·hidden = 256". */
  dName: string;
  kName: string;
}

export type ModelShape = Pick<ModelConfig, 'embedding' | 'hidden' | 'layers'> & Partial<Pick<ModelConfig, 'arch' | 'ffn' | 'tied'>>;

/** The replaceable weight matrices of a model (vocab: its vocabulary size, if known; a tied Transformer has no softmax matrix of its own). */
export function weightMatrices(model: ModelShape, vocab?: number): WeightMatrix[] {
  const { embedding: e, hidden: h, layers } = model;
  const out: WeightMatrix[] = [];
  if (archOf(model) === 'transformer') {
    const f = model.ffn ?? 4 * h;
    const width = `model width ${h}`;
    for (let l = 0; l < layers; l++) {
      for (const p of ['q', 'k', 'v', 'o']) out.push({ name: `block.${l}.${p}`, group: 'attention', d: h, k: h, dName: width, kName: width });
      out.push({ name: `block.${l}.ffn.in`, group: 'ffn', d: h, k: f, dName: width, kName: `ffn width ${f}` });
      out.push({ name: `block.${l}.ffn.out`, group: 'ffn', d: f, k: h, dName: `ffn width ${f}`, kName: width });
    }
    if (vocab !== undefined && !model.tied) out.push({ name: 'softmax', group: 'output', d: h, k: vocab, dName: `input size ${h}`, kName: `vocabulary size ${vocab}` });
    return out;
  }
  for (let l = 0; l < layers; l++) {
    const d = l === 0 ? e : h;
    const gates = `output size 4·hidden = ${4 * h}`;
    out.push({ name: `lstm.${l}.ih`, group: 'gates', d, k: 4 * h, dName: `input size ${d}`, kName: gates });
    out.push({ name: `lstm.${l}.hh`, group: 'gates', d: h, k: 4 * h, dName: `hidden size ${h}`, kName: gates });
  }
  if (vocab !== undefined) out.push({ name: 'softmax', group: 'output', d: h, k: vocab, dName: `input size ${h}`, kName: `vocabulary size ${vocab}` });
  return out;
}

/** What the architecture's own fields say wrong: an LSTM given a Transformer's fields, a Transformer whose sizes do not fit. */
function architectureIssues(model: ModelConfig): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (archOf(model) === 'lstm') {
    for (const f of TRANSFORMER_FIELDS) {
      if (model[f] !== undefined) issues.push({ path: `model.${f}`, message: `only a Transformer (model.arch: transformer) reads model.${f}` });
    }
    return issues;
  }
  const t = transformerShape(model);
  if (model.embedding !== model.hidden) issues.push({ path: 'model.embedding', message: `a Transformer's embedding width is its model width: set it to model.hidden (${model.hidden}), not ${model.embedding}` });
  if (t.d % t.heads !== 0) issues.push({ path: 'model.heads', message: `${t.heads} heads do not divide the model width hidden ${t.d}` });
  return issues;
}

/** Layer groups a method's options name that the architecture lacks, or that a tied softmax makes meaningless. */
function layerGroupIssues(model: ModelConfig): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const arch = archOf(model);
  const have = ARCH_LAYER_GROUPS[arch];
  for (const [key, opts] of [['phm', model.phm], ['lowrank', model.lowrank]] as const) {
    if (!opts) continue;
    const missing = opts.layers.filter((g) => !have.includes(g));
    if (missing.length) issues.push({ path: `model.${key}.layers`, message: `${missing.map((g) => `'${g}'`).join(', ')}: ${arch === 'lstm' ? 'an LSTM' : 'a Transformer'} has none; its layer groups are ${have.join(', ')}` });
    if (arch === 'transformer' && model.tied && opts.layers.includes('output')) {
      issues.push({ path: `model.${key}.layers`, message: `'output' with model.tied: the softmax weight is the embedding table, which ${key} does not replace (untie it, or drop 'output')` });
    }
  }
  return issues;
}

/**
 * Why a resolved model (see resolveModel) cannot be built, one message per bad field or matrix,
 * each naming its option, the matrix and the sizes: "model.phm.n: n=3 does not divide lstm.0.ih
 * input size 64". The softmax is checked only when vocab is given.
 */
export function compressionIssues(model: ModelConfig, vocab?: number): FieldIssue[] {
  const issues = [...architectureIssues(model), ...layerGroupIssues(model)];
  const { phm, lowrank } = model;
  if (phm && lowrank) issues.push({ path: 'model', message: 'model.phm and model.lowrank are exclusive' });
  for (const m of weightMatrices(model, vocab)) {
    if (phm?.layers.includes(m.group)) {
      const bad = [m.d % phm.n !== 0 ? m.dName : '', m.k % phm.n !== 0 ? m.kName : ''].filter(Boolean);
      if (bad.length) issues.push({ path: 'model.phm.n', message: `n=${phm.n} does not divide ${m.name} ${[...new Set(bad)].join(' or ')}` });
    }
    if (lowrank?.layers.includes(m.group) && lowrank.rank > Math.min(m.d, m.k)) {
      issues.push({ path: 'model.lowrank.rank', message: `rank ${lowrank.rank} exceeds ${m.name}'s smaller side (${m.d < m.k ? m.dName : m.kName}): no compression` });
    }
  }
  return issues;
}
