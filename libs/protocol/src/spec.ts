// The sweep spec and the trial config: what a user writes, what a worker runs.
import { z } from 'zod';
import { CONTROL_METHOD } from './methods.ts';
import { PrunerOptions } from './pruner-spec.ts';
import { ReferenceTable } from './reference-spec.ts';
import { SearchOptions, SearchSpace } from './search-spec.ts';
import { ModelConfig, resolveModel } from './model-spec.ts';
import type { FieldIssue } from './spec-error.ts';

export { type FieldIssue, SpecError } from './spec-error.ts';
export * from './model-spec.ts';

/**
 * Compression methods for a trained model's embedding and softmax matrices (GroupReduce, Chen et
 * al. 2018, and its baselines; libs/algorithms low-rank.ts). A trial with one of them starts
 * from the checkpoint of the same configuration trained with method 'dense' (its baseline trial,
 * created by the sweep), compresses, and fine-tunes; options in `compress`.
 */
export const COMPRESSION_METHODS = ['svd', 'weighted-svd', 'block-weighted-svd', 'dynamic-rank', 'groupreduce'] as const;
export type CompressionMethodName = (typeof COMPRESSION_METHODS)[number];

/**
 * Methods a trial can run: 'dense' (the plain LSTM LM), 'phm' (the chosen weight matrices as
 * PHM layers, options in model.phm), 'lowrank' (the same matrices as rank-r products U·V
 * trained from scratch, options in model.lowrank), the COMPRESSION_METHODS, and
 * 'dense-finetune' (CONTROL_METHOD: the baseline fine-tuned like them, uncompressed).
 */
export const METHODS = ['dense', 'phm', 'lowrank', ...COMPRESSION_METHODS, CONTROL_METHOD] as const;
export const Method = z.enum(METHODS);
export type Method = z.infer<typeof Method>;

export function isCompressionMethod(m: string): m is CompressionMethodName {
  return (COMPRESSION_METHODS as readonly string[]).includes(m);
}

/** Methods that start from their baseline trial's checkpoint and fine-tune it: the compression methods and the control. */
export function startsFromBaseline(m: string): boolean {
  return isCompressionMethod(m) || m === CONTROL_METHOD;
}

const posInt = (max: number) => z.number().int().min(1).max(max);

export const DatasetConfig = z
  .object({
    /** A bundled dataset name (directory under the project's data/) or a path to a directory of train/valid/test text files. */
    name: z.string().min(1).max(500).default('ptb'),
    /** Keep only the most frequent words (the rest become <unk>): small vocabularies make fast trials. */
    vocabSize: posInt(1_000_000).optional(),
  })
  .strict();
export type DatasetConfig = z.infer<typeof DatasetConfig>;

/**
 * Fine-tuning of a compressed model (and of the dense + fine-tune control, alike): the trial's
 * training settings, with these overrides. Validation perplexity is measured before the first
 * step, every `evalEvery` steps, at the end of every epoch and after the last step; the trial's
 * result (validPpl, testPpl) is the best of these points, the one before fine-tuning included
 * (its weights are restored before the test evaluation), and its `finetune` report gives the
 * perplexities before, after the last step, and the best point's step.
 */
export const FinetuneOptions = z
  .object({
    /** Passes over the train split (0: no fine-tuning; the result is the compressed model as is). */
    epochs: z.number().min(0).max(1000).default(1),
    /** Stop after this many steps (and after `epochs`, whichever comes first). */
    maxSteps: z.number().int().min(0).max(1e9).optional(),
    /**
     * Learning rate (absent: the baseline's final rate, the one its schedule reached at its last
     * step: training.lr · lrDecay^k, so after Zaremba's 13 epochs of lr 1 halved from the 5th on,
     * 1/2⁹ ≈ 0.002, not 1 again). The fine-tuning's own epochs decay it by the same schedule.
     */
    lr: z.number().positive().max(100).optional(),
    /** Evaluate validation perplexity every this many steps (absent: budget.evalEvery; epoch ends and the last step always). */
    evalEvery: z.number().int().min(1).max(1e9).optional(),
  })
  .strict();
export type FinetuneOptions = z.infer<typeof FinetuneOptions>;

export const COMPRESS_TARGETS = ['embedding', 'softmax', 'both'] as const;

/**
 * Options of the compression methods. The embedding (vocab × embedding) and/or the softmax
 * weight (as vocab × hidden, one row per word) are replaced by their factorized form at
 * compression rate `rate` (dense parameters / factorized parameters, per matrix, met within 1%).
 *   method: groupreduce
 *   compress: { target: both, rate: 5, blocks: 10, iters: 5, finetune: { epochs: 1, lr: 0.001 } }
 *   grid: { method: [svd, weighted-svd, dynamic-rank, groupreduce], compress.rate: [2, 5, 10] }
 */
export const CompressOptions = z
  .object({
    target: z.enum(COMPRESS_TARGETS).default('both'),
    rate: z.number().min(1).max(1e5).default(5),
    /** Frequency blocks of the block methods (block-weighted-svd, dynamic-rank, groupreduce). */
    blocks: posInt(10_000).default(10),
    /** GroupReduce's refinement iterations. */
    iters: z.number().int().min(0).max(100).default(5),
    /**
     * The frequency weighting of the weighted methods: word i weighs qᵢ^weightPower (q: its train
     * frequency). Absent or 1: the frequencies themselves (the paper's weighted SVD); 0.5 their
     * square roots; 0 every word alike (weighted SVD is then plain SVD). The blocks, the ranks and
     * the refinement all use these weights; the reported error stays weighted by q.
     */
    weightPower: z.number().min(0).max(1).optional(),
    finetune: FinetuneOptions.default(FinetuneOptions.parse({})),
    /**
     * The "dense + fine-tune" control (method dense-finetune), one per baseline checkpoint and seed:
     * it starts from the same checkpoint and fine-tunes it with the same `finetune` settings, without
     * compression, so a compression's difference from it is the compression's alone. A launch sets
     * it unless it is false (libs/sweep withControl). A sweep-level switch, not part of any trial's config.
     */
    control: z.boolean().optional(),
  })
  .strict();
export type CompressOptions = z.infer<typeof CompressOptions>;

/** The matrices a compression target replaces, as N words × D: the embedding [V, e], the softmax [V, h]. */
export function compressedMatrices(target: CompressOptions['target'], model: Pick<ModelConfig, 'embedding' | 'hidden'>, vocab: number): { name: 'embedding' | 'softmax'; N: number; D: number }[] {
  const out: { name: 'embedding' | 'softmax'; N: number; D: number }[] = [];
  if (target !== 'softmax') out.push({ name: 'embedding', N: vocab, D: model.embedding });
  if (target !== 'embedding') out.push({ name: 'softmax', N: vocab, D: model.hidden });
  return out;
}

export const TrainingConfig = z
  .object({
    batchSize: posInt(4096).default(20),
    unroll: posInt(1024).default(20),
    optimizer: z.enum(['sgd', 'adam']).default('sgd'),
    /** Learning rate for the loss summed over the unroll and averaged over the batch (Zaremba's convention). */
    lr: z.number().positive().max(100).default(1),
    /** Multiply the rate by lrDecay at the end of every epoch after decayStart epochs. */
    lrDecay: z.number().positive().max(1).default(0.5),
    decayStart: z.number().min(0).max(1000).default(4),
    /** Global gradient-norm clip. */
    clip: z.number().positive().max(1e6).default(5),
    epochs: z.number().positive().max(1000).default(1),
  })
  .strict();
export type TrainingConfig = z.infer<typeof TrainingConfig>;

export const BudgetConfig = z
  .object({
    /** Stop training after this many optimizer steps. */
    maxSteps: posInt(1e9).optional(),
    /** Stop training after this many training tokens. */
    maxTokens: posInt(1e12).optional(),
    /** Evaluate validation perplexity every this many steps (and at the end). */
    evalEvery: posInt(1e9).optional(),
    /** Evaluate on the first evalTokens tokens of valid/test (absent: the whole split). */
    evalTokens: posInt(1e12).optional(),
  })
  .strict();
export type BudgetConfig = z.infer<typeof BudgetConfig>;

/** Everything a worker needs to run one trial except its seed. */
export const TrialConfig = z
  .object({
    method: Method.default('dense'),
    dataset: DatasetConfig.default({ name: 'ptb' }),
    model: ModelConfig.default(ModelConfig.parse({})),
    training: TrainingConfig.default(TrainingConfig.parse({})),
    budget: BudgetConfig.default({}),
    /** Options of the compression methods (read only for those; absent: the defaults). */
    compress: CompressOptions.optional(),
    /** The fine-tuning of method dense-finetune, the control (read only for it; in a spec: compress.finetune). */
    finetune: FinetuneOptions.optional(),
  })
  .strict();
export type TrialConfig = z.infer<typeof TrialConfig>;

/**
 * A trial config as it runs: the model resolved (resolveModel; a compression method starts from
 * the dense model, so it keeps neither model.phm nor model.lowrank) and `compress` kept, with
 * defaults, only for a compression method (blocks 1 for svd and weighted-svd, iters 0 for all
 * but groupreduce, no weightPower for svd: options the method does not read; `control` dropped: it is the sweep's).
 * The control (dense-finetune) keeps only the fine-tuning, as `finetune`.
 */
export function resolveConfig(config: TrialConfig): TrialConfig {
  const { compress, finetune, ...rest } = config;
  const resolved = { ...rest, model: resolveModel(config) };
  if (config.method === CONTROL_METHOD) return { ...resolved, finetune: finetune ?? compress?.finetune ?? FinetuneOptions.parse({}) };
  if (!isCompressionMethod(config.method)) return resolved;
  // Options a method does not read are normalized, so a grid over them does not repeat it.
  const c = { ...(compress ?? CompressOptions.parse({})) };
  delete c.control;
  const blocks = config.method === 'svd' || config.method === 'weighted-svd' ? 1 : c.blocks;
  if (config.method === 'svd') delete c.weightPower;
  return { ...resolved, compress: { ...c, blocks, iters: config.method === 'groupreduce' ? c.iters : 0 } };
}

/** The fine-tuning a trial that starts from its baseline runs (compress.finetune, or the control's finetune); undefined for the others. */
export function finetuneOptionsOf(config: TrialConfig): FinetuneOptions | undefined {
  if (config.method === CONTROL_METHOD) return config.finetune ?? config.compress?.finetune ?? FinetuneOptions.parse({});
  if (isCompressionMethod(config.method)) return config.compress?.finetune ?? FinetuneOptions.parse({});
  return undefined;
}

/** The config of a compression trial's (or the control's) baseline: the same model and training, method 'dense'. */
export function baselineConfigOf(config: TrialConfig): TrialConfig {
  return resolveConfig({ ...config, method: 'dense', compress: undefined, finetune: undefined });
}

/** Whether a compression sweep plans the dense + fine-tune control (a new one does unless `compress.control: false`: libs/sweep prepareSweep writes it in). */
export function hasControl(spec: { compress?: { control?: boolean } }): boolean {
  return spec.compress?.control === true;
}

/** The "dense + fine-tune" control of a compression trial: its baseline's config, fine-tuned with the same settings. */
export function controlConfigOf(config: TrialConfig): TrialConfig {
  return resolveConfig({ ...baselineConfigOf(config), method: CONTROL_METHOD, finetune: finetuneOptionsOf(config) });
}

export const GridValue = z.union([z.number(), z.string().max(500), z.boolean()]);
export type GridValue = z.infer<typeof GridValue>;

export const MAX_TRIALS_PER_SWEEP = 10_000;

/**
 * Seeds until the interval is tight: every configuration runs seeds 0..min-1; then, each time a
 * configuration's seeds have all finished, the coordinator adds one more seed to the
 * configurations on or near the Pareto front (of parameters × mean validation perplexity: not
 * beaten, beyond their 95% intervals, by a configuration with at most their parameters) whose 95%
 * Student-t interval on validation perplexity is wider than ±ciHalfWidth, until they have max.
 *   seeds: { min: 2, max: 10, ciHalfWidth: 1.5 }
 */
export const AdaptiveSeeds = z
  .object({
    min: z.number().int().min(2).max(1000).default(2),
    max: z.number().int().min(2).max(1000).default(10),
    /** The target: ± this many perplexity points (validation), 95% Student-t. */
    ciHalfWidth: z.number().positive().max(1e6),
  })
  .strict()
  .refine((s) => s.max >= s.min, { path: ['max'], message: 'max must be at least min' });
export type AdaptiveSeeds = z.infer<typeof AdaptiveSeeds>;

export const SweepSpec = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5000).optional(),
    method: Method.default('dense'),
    dataset: z.union([z.string().min(1).max(500).transform((name) => ({ name })), DatasetConfig]).default({ name: 'ptb' }),
    model: ModelConfig.default(ModelConfig.parse({})),
    training: TrainingConfig.default(TrainingConfig.parse({})),
    budget: BudgetConfig.default({}),
    compress: CompressOptions.optional(),
    /** Dotted trial-config paths ("model.hidden", "training.lr", "method") to lists of values; the sweep runs their product. */
    grid: z.record(z.string(), z.array(GridValue).min(1).max(1000)).default({}),
    /** A sampled sweep instead of a grid: sampler, trials, parallel, seed, objectives (search-spec.ts). */
    search: SearchOptions.optional(),
    /** The sampled sweep's parameters: dotted trial-config paths to distributions, optionally conditional (`when`). */
    space: SearchSpace.optional(),
    /** Stop the losers early (median, asha) or pause them and resume the winners (asha with promotion); absent: none (pruner-spec.ts). */
    pruner: PrunerOptions.optional(),
    /** Number of seeds per configuration (seeds 0..n-1), the list of seeds, or seeds until the interval is tight (AdaptiveSeeds). */
    seeds: z.union([posInt(1000), z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1).max(1000), AdaptiveSeeds]).default(1),
    /** The grid point that is the uncompressed reference: compression ratios are taken against it. */
    baseline: z.record(z.string(), GridValue).optional(),
    /** Attempts per trial before it is marked failed (a crash or lost lease counts as one). */
    maxAttempts: posInt(100).default(3),
    /** A published table that `lmsweep report` prints beside this sweep's results (reference-spec.ts). */
    reference: ReferenceTable.optional(),
  })
  .strict();
export type SweepSpecInput = z.input<typeof SweepSpec>;
export type SweepSpec = z.infer<typeof SweepSpec>;


export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    message:
      i.code === 'unrecognized_keys'
        ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`
        : i.code === 'invalid_key'
          ? `invalid key: ${i.issues.map((k) => k.message).join('; ')}`
          : i.message,
  }));
}
