// A sampled sweep's spec: `search:` (the sampler, its budget, seed and objectives) and `space:`
// (dotted trial-config paths to distributions, each optionally conditional on others). Parsed
// specs keep the form the user wrote (they are stored and parsed again); libs/search compiles a
// space into its distributions. Paths are checked against the trial config in libs/sweep.
import { z } from 'zod';

/**
 * Samplers of a sampled sweep: `random` (independent draws), `sobol` (scrambled Sobol points),
 * `tpe` (Tree-structured Parzen Estimator, one objective) and `motpe` (TPE split by Pareto rank
 * and hypervolume contribution, for objectives [params, validPpl]).
 */
export const SAMPLERS = ['random', 'sobol', 'tpe', 'motpe'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** What a sampled sweep minimizes: validation perplexity, or the front of parameters against it. */
export const OBJECTIVE_SETS = [['validPpl'], ['params', 'validPpl']] as const;
export type Objective = 'params' | 'validPpl';

/** Most parameters one space may have (as a grid's keys). */
export const MAX_SPACE_PARAMS = 32;
/** Most values of one categorical parameter. */
export const MAX_CHOICES = 1000;
/** Bounds of numeric distributions stay within ±this (integers: exactly representable). */
export const MAX_BOUND = 1e15;

const SpaceValue = z.union([z.number().refine(Number.isFinite, 'a finite number'), z.string().max(500), z.boolean()]);
export type SpaceValue = z.infer<typeof SpaceValue>;

/** `when: { method: phm }` or `when: { method: [svd, groupreduce] }`: every named parameter must take one of the values. */
const When = z
  .record(z.string().min(1).max(200), z.union([SpaceValue, z.array(SpaceValue).min(1).max(MAX_CHOICES)]))
  .refine((w) => Object.keys(w).length > 0, 'a condition names at least one parameter');
export type WhenSpec = z.infer<typeof When>;

const unique = (vs: readonly SpaceValue[]) => new Set(vs).size === vs.length;
const Choices = z.array(SpaceValue).min(1).max(MAX_CHOICES).refine(unique, 'each value at most once');

const bound = z.number().refine(Number.isFinite, 'a finite number').refine((x) => Math.abs(x) <= MAX_BOUND, `within ±${MAX_BOUND}`);
const Bounds = z.tuple([bound, bound]).refine(([a, b]) => a < b, { message: 'bounds are [low, high] with low < high' });

const Uniform = z.object({ uniform: Bounds, when: When.optional() }).strict();
const LogUniform = z
  .object({ log_uniform: Bounds.refine(([a]) => a > 0, { message: 'a log range is positive: low > 0' }), when: When.optional() })
  .strict();
const intBound = z.number().int('an integer').min(-MAX_BOUND).max(MAX_BOUND);
const Int = z
  .object({
    int: z.tuple([intBound, intBound]).refine(([a, b]) => a < b, { message: 'bounds are [low, high] with low < high' }),
    step: z.number().int().min(1).max(MAX_BOUND).optional(),
    log: z.boolean().optional(),
    when: When.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const [low, high] = p.int;
    const step = p.step ?? 1;
    if ((high - low) % step !== 0) ctx.addIssue({ code: 'custom', path: ['step'], message: `step ${step} does not divide the range ${high} − ${low} = ${high - low}` });
    if (p.log && low < 1) ctx.addIssue({ code: 'custom', path: ['int'], message: 'a log range of integers starts at 1 or more' });
    if (p.log && step !== 1) ctx.addIssue({ code: 'custom', path: ['step'], message: 'log: true samples every integer; a step is not allowed with it' });
  });
const Values = z.object({ values: Choices, when: When.optional() }).strict();

/** One parameter of a space, as written: a list (categorical), or one of the distributions. */
export type SpaceParamSpec =
  | SpaceValue[]
  | z.infer<typeof Values>
  | z.infer<typeof Uniform>
  | z.infer<typeof LogUniform>
  | z.infer<typeof Int>;

const KINDS = ['uniform', 'log_uniform', 'int', 'values'] as const;
const KIND_SCHEMAS = { uniform: Uniform, log_uniform: LogUniform, int: Int, values: Values } as const;

function messageOf(i: z.core.$ZodIssue): string {
  if (i.code === 'unrecognized_keys') return `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
  return i.message;
}

/**
 * A parameter's distribution, dispatched on the key it has (so an error names the field of that
 * distribution, not every alternative): a list is categorical; `{ values: [...] }` too;
 * `{ uniform: [a, b] }`, `{ log_uniform: [a, b] }`, `{ int: [a, b], step?, log? }`.
 */
export const SpaceParam = z.unknown().transform((raw, ctx): SpaceParamSpec => {
  let schema: z.ZodType<SpaceParamSpec> | undefined;
  if (Array.isArray(raw)) schema = Choices;
  else if (raw !== null && typeof raw === 'object') {
    const kinds = KINDS.filter((k) => Object.hasOwn(raw, k));
    if (kinds.length > 1) {
      ctx.addIssue({ code: 'custom', message: `one distribution per parameter; this one has ${kinds.join(' and ')}` });
      return z.NEVER;
    }
    if (kinds.length === 1) schema = KIND_SCHEMAS[kinds[0]!] as z.ZodType<SpaceParamSpec>;
  }
  if (!schema) {
    ctx.addIssue({ code: 'custom', message: 'a parameter is a list of values, { values: [...] }, { uniform: [low, high] }, { log_uniform: [low, high] } or { int: [low, high], step?, log? }' });
    return z.NEVER;
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: i.path as PropertyKey[], message: messageOf(i) });
    return z.NEVER;
  }
  return r.data;
});

/** Dotted trial-config paths ("training.lr", "model.hidden", "method") to distributions. */
export const SearchSpace = z
  .record(z.string(), SpaceParam)
  .superRefine((space, ctx) => {
    const n = Object.keys(space).length;
    if (n === 0) ctx.addIssue({ code: 'custom', message: 'a space has at least one parameter' });
    if (n > MAX_SPACE_PARAMS) ctx.addIssue({ code: 'custom', message: `a space has at most ${MAX_SPACE_PARAMS} parameters; this one has ${n}` });
    for (const issue of conditionIssues(space)) ctx.addIssue({ code: 'custom', path: [issue.param, 'when', issue.other], message: issue.message });
  });
export type SearchSpaceSpec = z.infer<typeof SearchSpace>;

export const SearchOptions = z
  .object({
    /** Absent: tpe for one objective, motpe for two. */
    sampler: z.enum(SAMPLERS).optional(),
    /** Configurations to try, each run for every seed. */
    trials: z.number().int().min(1).max(10_000),
    /** At most this many trials queued or running at once. */
    parallel: z.number().int().min(1).max(1000).default(4),
    /** The same seed and the same results in the same order give the same suggestions. */
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    /** Minimized: [validPpl], or [params, validPpl] (the Pareto front of parameters against perplexity). */
    objectives: z.array(z.enum(['params', 'validPpl'])).default(['validPpl']),
    /** Two objectives: the hypervolume's reference point [params, validPpl], fixed so sweeps compare; absent: past the worst finished so far. */
    reference: z.tuple([z.number().positive().max(1e15), z.number().positive().max(1e15)]).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const set = OBJECTIVE_SETS.find((o) => o.length === s.objectives.length && o.every((x, i) => x === s.objectives[i]));
    if (!set) return ctx.addIssue({ code: 'custom', path: ['objectives'], message: 'objectives are [validPpl] or [params, validPpl]' });
    if (s.sampler === 'tpe' && set.length === 2) ctx.addIssue({ code: 'custom', path: ['sampler'], message: 'tpe minimizes one objective; for [params, validPpl] use motpe' });
    if (s.sampler === 'motpe' && set.length === 1) ctx.addIssue({ code: 'custom', path: ['sampler'], message: 'motpe searches the front of [params, validPpl]; for [validPpl] use tpe' });
  })
  .transform((s) => ({ ...s, sampler: s.sampler ?? (s.objectives.length === 2 ? ('motpe' as const) : ('tpe' as const)) }));
export type SearchOptions = z.infer<typeof SearchOptions>;

/** Whether a parameter can take the value v: one of its values, an integer on its steps, a number in its range. */
export function takesValue(p: SpaceParamSpec, v: SpaceValue): boolean {
  if (Array.isArray(p)) return p.includes(v);
  if ('values' in p) return p.values.includes(v);
  if (typeof v !== 'number') return false;
  if ('int' in p) {
    const [low, high] = p.int;
    return Number.isInteger(v) && v >= low && v <= high && (v - low) % (p.step ?? 1) === 0;
  }
  const [low, high] = 'uniform' in p ? p.uniform : p.log_uniform;
  return v >= low && v <= high;
}

/** The `when` of a parameter as lists of values. */
export function conditionOf(p: SpaceParamSpec): Record<string, SpaceValue[]> | undefined {
  if (Array.isArray(p) || !p.when) return undefined;
  return Object.fromEntries(Object.entries(p.when).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
}

/** A condition that cannot hold: in parameter `param`'s `when`, the entry for `other`. */
export interface ConditionIssue {
  param: string;
  other: string;
  message: string;
}

/**
 * Conditions that can never hold or that loop: each `when` names another parameter of the
 * space, categorical or integer, with values it takes; no parameter depends on itself through
 * a chain of conditions.
 */
export function conditionIssues(space: Readonly<Record<string, SpaceParamSpec>>): ConditionIssue[] {
  const out: ConditionIssue[] = [];
  const names = Object.keys(space);
  for (const [name, p] of Object.entries(space)) {
    const when = conditionOf(p);
    if (!when) continue;
    for (const [other, values] of Object.entries(when)) {
      const at = { param: name, other };
      if (other === name) {
        out.push({ ...at, message: 'a parameter cannot be conditional on itself' });
        continue;
      }
      if (!Object.hasOwn(space, other)) {
        out.push({ ...at, message: `not a parameter of the space (it has ${names.join(', ')})` });
        continue;
      }
      const q = space[other]!;
      if (!Array.isArray(q) && ('uniform' in q || 'log_uniform' in q)) {
        out.push({ ...at, message: `"${other}" is continuous: a condition names a categorical or integer parameter` });
        continue;
      }
      const bad = values.filter((v) => !takesValue(q, v));
      if (bad.length) out.push({ ...at, message: `${bad.map((v) => JSON.stringify(v)).join(', ')} ${bad.length > 1 ? 'are values' : 'is a value'} "${other}" never takes` });
    }
  }
  // Cycles: depth-first over "depends on" edges.
  const state = new Map<string, 'open' | 'done'>();
  const reported = new Set<string>();
  const visit = (name: string, stack: string[]): void => {
    state.set(name, 'open');
    for (const other of Object.keys(conditionOf(space[name]!) ?? {})) {
      if (other === name || !Object.hasOwn(space, other)) continue;
      if (state.get(other) === 'open') {
        const cycle = [...stack.slice(stack.indexOf(other)), other];
        const key = [...cycle].sort().join('\u0000');
        if (!reported.has(key)) {
          reported.add(key);
          out.push({ param: name, other, message: `conditions form a cycle: ${cycle.join(' → ')}` });
        }
      } else if (!state.has(other)) visit(other, [...stack, other]);
    }
    state.set(name, 'done');
  };
  for (const name of names) if (!state.has(name)) visit(name, [name]);
  return out;
}
