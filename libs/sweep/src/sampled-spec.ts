// The checks of a sampled sweep's spec (`search:` and `space:`) beyond its schema: the space's
// paths name trial-config fields and each distribution's values are values that field takes
// (as a grid's keys and values are checked), the sweep's size, and what `baseline` and
// `compress.control` refer to. Per-point constraints (PHM's n dividing the sizes, a rate a
// matrix can meet) are checked when a point is sampled, not here.
import {
  conditionOf,
  type FieldIssue,
  type GridValue,
  hasControl,
  isCompressionMethod,
  MAX_TRIALS_PER_SWEEP,
  type SearchSpaceSpec,
  SpecError,
  startsFromBaseline,
  type SpaceParamSpec,
  type SweepSpec,
  takesValue,
} from '@lmsweep/protocol';
import { pathIssue } from './paths.ts';

/** Checks one dotted-path override of a trial config (the grid's check): an error message, or null. */
export type OverrideCheck = (key: string, value: GridValue) => string | null;

/** Whether a parsed spec is a sampled sweep (it has `search:` or `space:`). */
export function isSampledSpec(spec: SweepSpec): boolean {
  return spec.search !== undefined || spec.space !== undefined;
}

/** Values of a distribution that stand for all it can give: each choice, the ends and an inner point of a range. */
function representatives(p: SpaceParamSpec): GridValue[] {
  if (Array.isArray(p)) return p;
  if ('values' in p) return p.values;
  if ('int' in p) {
    const [low, high] = p.int;
    const step = p.step ?? 1;
    return [low, high, low + Math.floor((high - low) / step / 2) * step];
  }
  // An inner point at an irrational fraction of the range: not an integer unless the field is one.
  const f = 0.3819660112501051;
  if ('uniform' in p) return [p.uniform[0], p.uniform[1], p.uniform[0] + f * (p.uniform[1] - p.uniform[0])];
  const [a, b] = p.log_uniform;
  return [a, b, Math.exp(Math.log(a) + f * (Math.log(b) - Math.log(a)))];
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Prototype segments in the space's keys and its conditions' keys, as written (a record schema drops a bare "__proto__"). */
function rawSpaceIssues(raw: Record<string, unknown>): FieldIssue[] {
  const out: FieldIssue[] = [];
  const space = Object.hasOwn(raw, 'space') ? raw['space'] : undefined;
  if (!isRecord(space)) return out;
  const refused = (key: string) => {
    const bad = pathIssue(key);
    return bad?.includes('is not a parameter name') ? bad : null;
  };
  for (const key of Object.keys(space)) {
    const bad = refused(key);
    if (bad) out.push({ path: `space.${key}`, message: bad });
    const p = space[key];
    const when = isRecord(p) && Object.hasOwn(p, 'when') ? p['when'] : undefined;
    if (!isRecord(when)) continue;
    for (const other of Object.keys(when)) {
      const badOther = refused(other);
      if (badOther) out.push({ path: `space.${key}.when.${other}`, message: badOther });
    }
  }
  return out;
}

/** The methods a sweep, grid or sampled, can run: its own or its space's choices, and its grid's. */
export const sweepMethods = (spec: SweepSpec): unknown[] => [...methodsOf(spec, spec.space), ...(spec.grid['method'] ?? [])];

/** The methods a sampled sweep can run: the spec's own, or the space's choices of `method`. */
function methodsOf(spec: SweepSpec, space: SearchSpaceSpec | undefined): unknown[] {
  const m = space && Object.hasOwn(space, 'method') ? space['method']! : undefined;
  if (!m) return [spec.method];
  return Array.isArray(m) ? m : 'values' in m ? m.values : [];
}

/** The most seeds a configuration may get (seeds until the interval is tight: max). */
const maxSeedsOf = (spec: SweepSpec) => (typeof spec.seeds === 'number' ? spec.seeds : Array.isArray(spec.seeds) ? spec.seeds.length : spec.seeds.max);

const compressing = (spec: SweepSpec) => methodsOf(spec, spec.space).some((m) => typeof m === 'string' && startsFromBaseline(m));

/** Trials one seed of a sampled configuration can add: itself, with a baseline (and control) where a method of the space starts from one. */
export function trialsPerSeed(spec: SweepSpec): number {
  return compressing(spec) ? (hasControl(spec) ? 3 : 2) : 1;
}

/** The most trials a sampled sweep can create: each configuration at its most seeds, trialsPerSeed each. */
export function searchTrialBound(spec: SweepSpec): number {
  return (spec.search?.trials ?? 0) * maxSeedsOf(spec) * trialsPerSeed(spec);
}

/**
 * Checks a parsed sampled spec against its raw form and the trial config; returns it, or throws
 * SpecError naming each bad field. `checkOverride` is the grid's check of one path and value.
 */
export function checkSampledSpec(spec: SweepSpec, raw: Record<string, unknown>, checkOverride: OverrideCheck): SweepSpec {
  const issues = rawSpaceIssues(raw);
  if (issues.length) throw new SpecError(issues);
  const { search, space } = spec;
  if (Object.keys(spec.grid).length > 0) issues.push({ path: 'grid', message: 'grid and search are exclusive: a sweep is a grid or a sampled search' });
  if (!search) issues.push({ path: 'search', message: 'a space is sampled by a search: add search: { sampler, trials }' });
  if (!space) issues.push({ path: 'space', message: 'a search samples a space: add space: { path: distribution, … }' });
  if (!search || !space || issues.length) throw new SpecError(issues);

  const methods = methodsOf(spec, space);
  const count = searchTrialBound(spec);
  if (count > MAX_TRIALS_PER_SWEEP) issues.push({ path: 'search.trials', message: `the sweep would create up to ${count} trials (${search.trials} configurations × ${maxSeedsOf(spec)} seeds${compressing(spec) ? ', with baselines' : ''}); at most ${MAX_TRIALS_PER_SWEEP} are allowed` });

  for (const [key, p] of Object.entries(space)) {
    const bad = pathIssue(key);
    if (bad) {
      issues.push({ path: `space.${key}`, message: bad });
      continue;
    }
    const continuous = !Array.isArray(p) && ('uniform' in p || 'log_uniform' in p);
    for (const v of representatives(p)) {
      const problem = checkOverride(key, v);
      if (!problem) continue;
      const integers = continuous && typeof v === 'number' && !Number.isInteger(v) && checkOverride(key, Math.round(v)) === null;
      const message = integers ? `"${key}" takes integers: sample it with { int: [low, high] }` : problem.startsWith('value ') && continuous ? `${problem} (a value this distribution gives)` : problem;
      issues.push({ path: `space.${key}`, message });
      break;
    }
    for (const other of Object.keys(conditionOf(p) ?? {})) {
      const badOther = pathIssue(other);
      if (badOther) issues.push({ path: `space.${key}.when.${other}`, message: badOther });
    }
  }
  if (spec.baseline) {
    for (const [key, v] of Object.entries(spec.baseline)) {
      if (!Object.hasOwn(space, key)) issues.push({ path: `baseline.${key}`, message: `not a parameter of the space (it has ${Object.keys(space).join(', ')})` });
      else if (!takesValue(space[key]!, v)) issues.push({ path: `baseline.${key}`, message: `value ${JSON.stringify(v)} is not one the space gives` });
    }
  }
  if (spec.compress?.control === true && !methods.some((m) => typeof m === 'string' && isCompressionMethod(m))) {
    issues.push({ path: 'compress.control', message: 'the sweep has no compression method (method or space.method) to add a dense + fine-tune control for' });
  }
  if (issues.length) throw new SpecError(issues);
  return spec;
}
