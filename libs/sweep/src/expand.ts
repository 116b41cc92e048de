// A sweep spec becomes a list of trial plans: the product of its grid, times its seeds.
import { parse as parseYaml } from 'yaml';
import {
  type FieldIssue,
  type GridValue,
  MAX_TRIALS_PER_SWEEP,
  prunerIssues,
  isCompressionMethod,
  SpecError,
  startsFromBaseline,
  SweepSpec,
  type TrialPlan,
  zodIssues,
} from '@lmsweep/protocol';
import { checkOverride, configFor, configKey } from './config.ts';
import { configIssues } from './feasibility.ts';
import { pathIssue } from './paths.ts';
import { PlanIndex, planConfiguration } from './plan.ts';
import { checkSampledSpec, isSampledSpec, sweepMethods } from './sampled-spec.ts';
import { hasControl, storableText, UNSTORABLE_MESSAGE, unstorableStrings } from '@lmsweep/protocol';

/** Parses a spec from YAML/JSON text or an object; throws SpecError naming each bad field. */
export function parseSweepSpec(input: string | unknown): SweepSpec {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = parseYaml(input);
    } catch (e) {
      throw new SpecError([{ path: '', message: `not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}` }]);
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpecError([{ path: '', message: 'a sweep spec is a mapping with at least a name' }]);
  }
  // Paths are checked on the raw keys: a record schema drops a bare "__proto__" key silently.
  const badPaths = rawPathIssues(raw as Record<string, unknown>);
  if (badPaths.length) throw new SpecError(badPaths);
  // The spec, its text and the trial configs it expands to are stored: refuse what the database cannot hold.
  const unstorable = typeof input === 'string' && !storableText(input) ? [{ path: '', message: `the spec text ${UNSTORABLE_MESSAGE}` }] : unstorableStrings(raw);
  if (unstorable.length) throw new SpecError(unstorable);
  const parsed = SweepSpec.safeParse(raw);
  if (!parsed.success) throw new SpecError(zodIssues(parsed.error));
  const spec = parsed.data;
  const pruning = prunerIssues(spec);
  if (pruning.length) throw new SpecError(pruning);
  if (isSampledSpec(spec)) return checkSampledSpec(spec, raw as Record<string, unknown>, checkOverride);
  const issues: FieldIssue[] = [];
  // The size is known before any work: refuse an oversized sweep before checking its values.
  const gridKeys = Object.keys(spec.grid);
  if (gridKeys.length > MAX_GRID_KEYS) throw new SpecError([{ path: 'grid', message: `a grid has at most ${MAX_GRID_KEYS} parameters; this one has ${gridKeys.length}` }]);
  const methods = sweepMethods(spec);
  const compressing = methods.some((m) => typeof m === 'string' && startsFromBaseline(m));
  // Compression trials may add one baseline trial per configuration and seed (and a control).
  const count = gridSize(spec) * maxSeeds(spec) * (compressing ? (hasControl(spec) ? 3 : 2) : 1);
  if (count > MAX_TRIALS_PER_SWEEP) {
    throw new SpecError([{ path: 'grid', message: `the sweep would create ${count} trials; at most ${MAX_TRIALS_PER_SWEEP} are allowed` }]);
  }
  for (const [key, values] of Object.entries(spec.grid)) {
    for (const v of values) {
      const problem = checkOverride(key, v);
      if (problem) {
        issues.push({ path: `grid.${key}`, message: problem });
        break;
      }
    }
  }
  if (spec.baseline) {
    for (const [key, v] of Object.entries(spec.baseline)) {
      const bad = pathIssue(key);
      if (bad) issues.push({ path: `baseline.${key}`, message: bad });
      else if (!Object.hasOwn(spec.grid, key)) issues.push({ path: `baseline.${key}`, message: `not a grid parameter (grid has ${Object.keys(spec.grid).join(', ') || 'none'})` });
      else if (!spec.grid[key]!.some((g) => g === v)) issues.push({ path: `baseline.${key}`, message: `value ${JSON.stringify(v)} is not in the grid` });
    }
  }
  if (spec.compress?.control === true && !methods.some((m) => typeof m === 'string' && isCompressionMethod(m))) issues.push({ path: 'compress.control', message: 'the sweep has no compression method (method or grid.method) to add a dense + fine-tune control for' });
  if (issues.length) throw new SpecError(issues);
  issues.push(...shapeIssues(spec));
  if (issues.length) throw new SpecError(issues);
  return spec;
}

/** Prototype segments in the dotted keys of the spec's path-keyed sections, as written. */
function rawPathIssues(raw: Record<string, unknown>): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const section of ['grid', 'baseline']) {
    const keyed = Object.hasOwn(raw, section) ? raw[section] : undefined;
    if (keyed === null || typeof keyed !== 'object' || Array.isArray(keyed)) continue;
    for (const key of Object.keys(keyed)) {
      const bad = pathIssue(key);
      if (bad?.includes('is not a parameter name')) out.push({ path: `${section}.${key}`, message: bad });
    }
  }
  return out;
}

/** Most parameters one grid may vary (each adds a factor to the product; real grids vary a handful). */
export const MAX_GRID_KEYS = 32;

/**
 * What cannot be built at each grid point (feasibility's configIssues: PHM's n, ranks, rates), so
 * a bad spec is refused at launch rather than on a worker; each message says at which point,
 * an issue found at several points is named once, at most 20 in all.
 */
function shapeIssues(spec: SweepSpec): FieldIssue[] {
  const seen = new Set<string>();
  const out: FieldIssue[] = [];
  for (const point of gridPoints(spec)) {
    const where = Object.keys(point).length ? ` (at grid point ${Object.entries(point).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})` : '';
    for (const issue of configIssues(configFor(spec, point))) {
      const key = `${issue.path}\u0000${issue.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ path: issue.path, message: `${issue.message}${where}` });
      if (out.length >= 20) return out;
    }
  }
  return out;
}

/** The seeds every configuration runs from launch (seeds until the interval is tight: 0..min-1). */
export function seedList(spec: SweepSpec): number[] {
  if (typeof spec.seeds === 'number') return Array.from({ length: spec.seeds }, (_, i) => i);
  if (Array.isArray(spec.seeds)) return [...spec.seeds];
  return Array.from({ length: spec.seeds.min }, (_, i) => i);
}

/** The most seeds a configuration may get (seeds until the interval is tight: max). */
export function maxSeeds(spec: SweepSpec): number {
  return typeof spec.seeds === 'object' && !Array.isArray(spec.seeds) ? spec.seeds.max : seedList(spec).length;
}

export function gridSize(spec: SweepSpec): number {
  return Object.values(spec.grid).reduce((n, vs) => n * vs.length, 1);
}

/** Every grid point's overrides, in order (first key varies slowest). */
export function gridPoints(spec: SweepSpec): Record<string, GridValue>[] {
  let points: Record<string, GridValue>[] = [{}];
  for (const [key, values] of Object.entries(spec.grid)) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  return points;
}

/**
 * The full list of trials a spec asks for: planConfiguration at each grid point in order, against
 * the plans so far, so grid points that give the same configuration run once and a baseline or a
 * control shared by several points is planned once, before its first dependent.
 */
export function expandSweep(spec: SweepSpec): TrialPlan[] {
  const seeds = seedList(spec);
  const planned = new PlanIndex();
  const plans: TrialPlan[] = [];
  for (const point of gridPoints(spec)) {
    const added = planConfiguration(spec, point, seeds, planned);
    planned.add(added);
    plans.push(...added);
  }
  return plans;
}

/** The configKey of the spec's baseline grid point, if it names one. */
export function baselineKey(spec: SweepSpec): string | null {
  if (!spec.baseline) return null;
  return configKey(configFor(spec, spec.baseline));
}
