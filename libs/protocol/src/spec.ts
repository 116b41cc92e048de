// The sweep spec and the trial config: what a user writes, what a worker runs.
import { z } from 'zod';

/** Training methods a trial can run. Later issues add compression methods. */
export const METHODS = ['dense'] as const;
export const Method = z.enum(METHODS);
export type Method = z.infer<typeof Method>;

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

export const ModelConfig = z
  .object({
    embedding: posInt(8192).default(200),
    hidden: posInt(8192).default(200),
    layers: posInt(8).default(2),
    dropout: z.number().min(0).max(0.95).default(0),
    /** Uniform init range [-initScale, initScale] (Zaremba et al.). */
    initScale: z.number().positive().max(10).default(0.1),
  })
  .strict();
export type ModelConfig = z.infer<typeof ModelConfig>;

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
  })
  .strict();
export type TrialConfig = z.infer<typeof TrialConfig>;

const GridValue = z.union([z.number(), z.string().max(500), z.boolean()]);
export type GridValue = z.infer<typeof GridValue>;

export const MAX_TRIALS_PER_SWEEP = 10_000;

export const SweepSpec = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5000).optional(),
    method: Method.default('dense'),
    dataset: z.union([z.string().min(1).max(500).transform((name) => ({ name })), DatasetConfig]).default({ name: 'ptb' }),
    model: ModelConfig.default(ModelConfig.parse({})),
    training: TrainingConfig.default(TrainingConfig.parse({})),
    budget: BudgetConfig.default({}),
    /** Dotted trial-config paths ("model.hidden", "training.lr", "method") to lists of values; the sweep runs their product. */
    grid: z.record(z.string(), z.array(GridValue).min(1).max(1000)).default({}),
    /** Number of seeds per configuration (seeds 0..n-1), or the list of seeds. */
    seeds: z.union([posInt(1000), z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1).max(1000)]).default(1),
    /** The grid point that is the uncompressed reference: compression ratios are taken against it. */
    baseline: z.record(z.string(), GridValue).optional(),
    /** Attempts per trial before it is marked failed (a crash or lost lease counts as one). */
    maxAttempts: posInt(100).default(3),
  })
  .strict();
export type SweepSpecInput = z.input<typeof SweepSpec>;
export type SweepSpec = z.infer<typeof SweepSpec>;

/** A problem with a spec or input, named by its dotted path. */
export interface FieldIssue {
  path: string;
  message: string;
}

export class SpecError extends Error {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[]) {
    super(issues.map((i) => `${i.path || '(spec)'}: ${i.message}`).join('; '));
    this.name = 'SpecError';
    this.issues = issues;
  }
}

export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    message: i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message,
  }));
}
