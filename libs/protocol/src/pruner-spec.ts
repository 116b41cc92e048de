// A sweep's pruner (`pruner:`): stop the losers early (median, ASHA) or, with promotion, pause
// them at a rung and resume the winners from their checkpoints. The schema here checks the
// section alone; prunerIssues checks it against the budget and what the grid or space varies;
// prunerSettings resolves the defaults that depend on the budget. libs/search decides.
import { z } from 'zod';
import { type FieldIssue, SpecError } from './spec-error.ts';

/** none (the default: every trial runs its budget), median (Optuna's MedianPruner), asha (asynchronous successive halving). */
export const PRUNERS = ['none', 'median', 'asha'] as const;
export type PrunerName = (typeof PRUNERS)[number];

/** What a pruner judges: the values reported every budget.evalEvery steps (lower is better). Only validation perplexity for now. */
export const PRUNER_METRICS = ['validPpl'] as const;
export type PrunerMetric = (typeof PRUNER_METRICS)[number];

const metric = z.enum(PRUNER_METRICS).default('validPpl');

const NonePruner = z.object({ type: z.literal('none') }).strict();

/**
 * Stop a trial whose value at an evaluation is worse than the median, at the same step, of the
 * other configurations that finished (Optuna's MedianPruner: n_startup_trials, n_warmup_steps).
 *   pruner: { type: median, warmupTrials: 5, warmupSteps: 0 }
 */
const MedianPruner = z
  .object({
    type: z.literal('median'),
    metric,
    /** Trials (each seed one) that succeeded before it stops anyone; Optuna's default, 5. */
    warmupTrials: z.number().int().min(0).max(100_000).default(5),
    /** No trial is stopped before this step (0: from the first evaluation). */
    warmupSteps: z.number().int().min(0).max(1e9).default(0),
  })
  .strict();

/**
 * Asynchronous successive halving (Li et al., MLSys 2020): rungs at minSteps·ηᵏ below
 * budget.maxSteps (or minTokens·ηᵏ below budget.maxTokens); at each, the best 1/η go on.
 *   pruner: { type: asha, minSteps: 300, reduction: 3, promotion: true }
 * minSteps absent (and no minTokens): the largest multiple of budget.evalEvery at most
 * maxSteps/η³ (so the best 1/η³ run to the end), and at least evalEvery.
 * promotion false (the default, as Optuna's SuccessiveHalvingPruner): a trial not in the top
 * 1/η of what its rung has recorded so far is stopped; nothing is kept for later. true (ASHA as
 * published): it pauses at the rung, its checkpoint kept, and resumes when it enters the top 1/η.
 * The default is false because every paused trial keeps a checkpoint until the sweep ends.
 */
const AshaPruner = z
  .object({
    type: z.literal('asha'),
    metric,
    /** The first rung, in optimizer steps: a multiple of budget.evalEvery below budget.maxSteps. */
    minSteps: z.number().int().min(1).max(1e9).optional(),
    /** The first rung, in training tokens (exclusive with minSteps): judged at the first evaluation at or past it. */
    minTokens: z.number().int().min(1).max(1e12).optional(),
    /** η: each rung is η times the previous one, and the best 1/η of a rung go on. */
    reduction: z.number().int().min(2).max(100).default(3),
    /** Pause at a rung and resume from the checkpoint when promoted (true), or stop (false). */
    promotion: z.boolean().default(false),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.minSteps !== undefined && p.minTokens !== undefined) ctx.addIssue({ code: 'custom', path: ['minTokens'], message: 'minSteps and minTokens are exclusive: the first rung is counted in steps or in tokens' });
  });

const SCHEMAS = { none: NonePruner, median: MedianPruner, asha: AshaPruner } as const;

export type PrunerSpec = z.infer<typeof NonePruner> | z.infer<typeof MedianPruner> | z.infer<typeof AshaPruner>;

/** The fields each pruner takes, so a field of another one is named as such. */
const FIELDS: Record<PrunerName, readonly string[]> = {
  none: ['type'],
  median: Object.keys(MedianPruner.shape),
  asha: Object.keys(AshaPruner.shape),
};

function unknownFieldMessage(type: PrunerName, keys: readonly string[]): string {
  return keys
    .map((k) => {
      const owner = PRUNERS.find((t) => t !== type && FIELDS[t].includes(k));
      return owner ? `"${k}" is an option of ${owner}, not of ${type}` : `unknown field "${k}"`;
    })
    .join('; ');
}

/**
 * The `pruner:` section, dispatched on `type` (absent: none) so an error names the field of that
 * pruner: { type: none } | { type: median, metric, warmupTrials, warmupSteps } |
 * { type: asha, metric, minSteps | minTokens, reduction, promotion }.
 */
export const PrunerOptions = z.unknown().transform((raw, ctx): PrunerSpec => {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    ctx.addIssue({ code: 'custom', message: `a pruner is a mapping: { type: ${PRUNERS.join(' | ')}, … }` });
    return z.NEVER;
  }
  const type = Object.hasOwn(raw, 'type') ? (raw as Record<string, unknown>)['type'] : 'none';
  if (typeof type !== 'string' || !(PRUNERS as readonly string[]).includes(type)) {
    ctx.addIssue({ code: 'custom', path: ['type'], message: `a pruner's type is ${PRUNERS.join(', ')}; got ${JSON.stringify(type)}` });
    return z.NEVER;
  }
  const name = type as PrunerName;
  const r = SCHEMAS[name].safeParse({ ...raw, type: name });
  if (!r.success) {
    for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: i.path as PropertyKey[], message: i.code === 'unrecognized_keys' ? unknownFieldMessage(name, i.keys) : i.message });
    return z.NEVER;
  }
  return r.data;
});

/** The trial-config fields a pruned sweep may not vary: its trials are compared at the same evaluations and rungs. */
export const PRUNER_FIXED_FIELDS = ['budget.evalEvery', 'budget.maxSteps', 'budget.maxTokens'] as const;

/** What of a spec prunerIssues and prunerSettings read. */
export interface PrunedSpecPart {
  pruner?: PrunerSpec | undefined;
  budget: { maxSteps?: number | undefined; maxTokens?: number | undefined; evalEvery?: number | undefined };
  grid?: Readonly<Record<string, unknown>>;
  space?: Readonly<Record<string, unknown>> | undefined;
}

/** minSteps when absent: the largest multiple of evalEvery at most maxSteps/η³, at least evalEvery. */
export function defaultMinSteps(evalEvery: number, maxSteps: number, reduction: number): number {
  return Math.max(evalEvery, Math.floor(maxSteps / reduction ** 3 / evalEvery) * evalEvery);
}

/**
 * Why a spec's pruner cannot run with its budget, naming the field to change: a pruner needs
 * budget.evalEvery (its values are the evaluations); ASHA's first rung must land on an evaluation
 * (minSteps a multiple of evalEvery) below the end (budget.maxSteps, or budget.maxTokens for
 * minTokens, which must then be set); median's warmupSteps below maxSteps; and the grid or space
 * may not vary evalEvery, maxSteps or maxTokens.
 */
export function prunerIssues(spec: PrunedSpecPart): FieldIssue[] {
  const p = spec.pruner;
  if (!p || p.type === 'none') return [];
  const out: FieldIssue[] = [];
  const { evalEvery, maxSteps, maxTokens } = spec.budget;
  for (const [section, keyed] of [['grid', spec.grid], ['space', spec.space]] as const) {
    for (const field of PRUNER_FIXED_FIELDS) {
      if (keyed && Object.hasOwn(keyed, field)) out.push({ path: `${section}.${field}`, message: `a pruned sweep (pruner.type: ${p.type}) compares its trials at the same evaluations and rungs: set ${field} once, in budget` });
    }
  }
  if (evalEvery === undefined) {
    out.push({ path: 'budget.evalEvery', message: `a pruner (pruner.type: ${p.type}) judges the values reported every budget.evalEvery steps: set budget.evalEvery` });
    return out;
  }
  if (p.type === 'median') {
    if (maxSteps !== undefined && p.warmupSteps >= maxSteps) out.push({ path: 'pruner.warmupSteps', message: `warmupSteps ${p.warmupSteps} is not below budget.maxSteps ${maxSteps}: no trial could ever be stopped` });
    return out;
  }
  if (p.minTokens !== undefined) {
    if (maxTokens === undefined) out.push({ path: 'budget.maxTokens', message: 'rungs counted in tokens (pruner.minTokens) go up to budget.maxTokens: set it' });
    else if (p.minTokens >= maxTokens) out.push({ path: 'pruner.minTokens', message: `the first rung, ${p.minTokens} tokens, is not below budget.maxTokens ${maxTokens}: there is no rung to judge at` });
    return out;
  }
  if (maxSteps === undefined) {
    out.push({ path: 'budget.maxSteps', message: 'ASHA\'s rungs go up to budget.maxSteps: set it (or count rungs in tokens: pruner.minTokens with budget.maxTokens)' });
    return out;
  }
  const min = p.minSteps ?? defaultMinSteps(evalEvery, maxSteps, p.reduction);
  const what = p.minSteps === undefined ? `the first rung (by default budget.evalEvery, ${min} steps)` : `minSteps ${min}`;
  if (min % evalEvery !== 0) out.push({ path: 'pruner.minSteps', message: `${what} is not a multiple of budget.evalEvery ${evalEvery}: a rung has to land on an evaluation` });
  else if (min >= maxSteps) out.push({ path: 'pruner.minSteps', message: `${what} is not below budget.maxSteps ${maxSteps}: there is no rung to judge at` });
  return out;
}

/** A pruner with its defaults resolved against the budget: what libs/search's decide and promotions take. */
export type PrunerSettings =
  | { type: 'none' }
  | { type: 'median'; metric: PrunerMetric; warmupTrials: number; warmupSteps: number }
  | {
      type: 'asha';
      metric: PrunerMetric;
      /** What a rung counts: optimizer steps (minSteps) or training tokens (minTokens). */
      unit: 'steps' | 'tokens';
      /** The first rung, in unit. */
      minResource: number;
      /** budget.maxSteps or budget.maxTokens: rungs lie below it. */
      maxResource: number;
      reduction: number;
      promotion: boolean;
    };

/** The pruner a checked spec runs (absent: none); throws SpecError with prunerIssues' issues. */
export function prunerSettings(spec: PrunedSpecPart): PrunerSettings {
  const issues = prunerIssues(spec);
  if (issues.length) throw new SpecError(issues);
  const p = spec.pruner;
  if (!p || p.type === 'none') return { type: 'none' };
  if (p.type === 'median') return { type: 'median', metric: p.metric, warmupTrials: p.warmupTrials, warmupSteps: p.warmupSteps };
  const { evalEvery, maxSteps, maxTokens } = spec.budget;
  const tokens = p.minTokens !== undefined;
  return {
    type: 'asha',
    metric: p.metric,
    unit: tokens ? 'tokens' : 'steps',
    minResource: tokens ? p.minTokens! : (p.minSteps ?? defaultMinSteps(evalEvery!, maxSteps!, p.reduction)),
    maxResource: tokens ? maxTokens! : maxSteps!,
    reduction: p.reduction,
    promotion: p.promotion,
  };
}
