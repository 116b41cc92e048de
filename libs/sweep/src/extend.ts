// An explicit extension of a sweep after launch (`lmsweep extend`): more values for grid
// parameters (the new points' trials; the existing ones kept), more configurations for a
// sampled sweep (its budget raised: the growth step samples them as slots free), and more seeds
// for every configuration or those named, planned against the trials the sweep holds, with the spec (and
// the text the user wrote, comments kept) updated so it reads as what was run. Pure: the
// coordinator runs it off its event loop and appends the result under the sweep's lock, checking
// the sweep has not changed since.
import { isMap, isScalar, isSeq, parseDocument, stringify } from 'yaml';
import { type ExtendRequest, type FieldIssue, type GridValue, MAX_TRIALS_PER_SWEEP, readSearchState, SpecError, SweepSpec, type TrialPlan, unstorableStrings, zodIssues } from '@lmsweep/protocol';
import { baseConfig, configFor, configKey } from './config.ts';
import { gridPoints, parseSweepSpec, seedList } from './expand.ts';
import { getOwnPath, pathIssue, pathSegments } from './paths.ts';
import { type PlannedTrial, PlanIndex, planConfiguration } from './plan.ts';
import { isSampledSpec, searchTrialBound } from './sampled-spec.ts';

export interface SweepExtensionPlan {
  /** The spec as it reads after the extension. */
  spec: SweepSpec;
  /** The spec text after it (the user's YAML, comments kept; or the spec written out when the text cannot be edited). */
  specText: string;
  /** The trials to append, ordinals after the stored ones. */
  plans: TrialPlan[];
  /** One line: what was added. */
  summary: string;
}

const refuse = (path: string, message: string): never => {
  throw new SpecError([{ path, message }]);
};

/** The seeds field after `k` more seeds for every configuration (a count grows, a list gets the next ones, seeds-until-tight raises min). */
function moreSeeds(seeds: SweepSpec['seeds'], k: number): SweepSpec['seeds'] {
  if (typeof seeds === 'number') return seeds + k;
  if (Array.isArray(seeds)) {
    const top = Math.max(...seeds);
    return [...seeds, ...Array.from({ length: k }, (_, i) => top + 1 + i)];
  }
  return { ...seeds, min: seeds.min + k, max: Math.max(seeds.max, seeds.min + k) };
}

/** The grid with `more` values added: a new parameter keeps the base config's value beside them, so the existing points stay what they were. */
function grownGrid(spec: SweepSpec, more: Record<string, GridValue[]>): Record<string, GridValue[]> {
  const grid = new Map(Object.entries(spec.grid));
  const issues: FieldIssue[] = [];
  for (const [key, values] of Object.entries(more)) {
    const bad = pathIssue(key);
    if (bad) {
      issues.push({ path: `grid.${key}`, message: bad });
      continue;
    }
    let old = grid.get(key);
    if (!old) {
      const base = getOwnPath(baseConfig(spec), pathSegments(key));
      if (!base.found || base.value === undefined || (typeof base.value === 'object' && base.value !== null)) {
        issues.push({ path: `grid.${key}`, message: `not a grid parameter of this sweep (its grid has ${Object.keys(spec.grid).join(', ') || 'none'}), and the sweep sets no value there to keep beside the new ones` });
        continue;
      }
      old = [base.value as GridValue];
    }
    const dup = values.find((v, i) => old.some((o) => o === v) || values.indexOf(v) !== i);
    if (dup !== undefined) {
      issues.push({ path: `grid.${key}`, message: `${JSON.stringify(dup)} is already in the grid (${old.map((v) => JSON.stringify(v)).join(', ')})` });
      continue;
    }
    grid.set(key, [...old, ...values]);
  }
  if (issues.length) throw new SpecError(issues);
  return Object.fromEntries(grid);
}

/** The spec text with the grid and seeds as `spec` has them, comments and layout kept; written out afresh when the text does not parse to a mapping. */
function editedText(specText: string, spec: SweepSpec, changed: { grid: string[]; seeds: boolean; trials?: boolean }): string {
  if (!changed.grid.length && !changed.seeds && !changed.trials) return specText;
  const doc = parseDocument(specText);
  if (doc.errors.length || !isMap(doc.contents)) return stringify(spec);
  for (const key of changed.grid) {
    const values = spec.grid[key]!;
    const node = doc.getIn(['grid', key], true);
    // A list written there keeps its comments and style: the new values go at its end.
    if (isSeq(node) && node.items.length < values.length) for (const v of values.slice(node.items.length)) node.items.push(doc.createNode(v));
    else doc.setIn(['grid', key], doc.createNode(values, { flow: true }));
  }
  if (changed.seeds) {
    const node = doc.get('seeds', true);
    if (isScalar(node) && typeof spec.seeds === 'number') node.value = spec.seeds;
    else doc.set('seeds', doc.createNode(spec.seeds, { flow: true }));
  }
  if (changed.trials) {
    const node = doc.getIn(['search', 'trials'], true);
    if (isScalar(node)) node.value = spec.search!.trials;
    else doc.setIn(['search', 'trials'], spec.search!.trials);
  }
  return doc.toString();
}

/**
 * Plans an extension of a sweep of `spec` (written as `specText`) holding `trials` (and, for a
 * sampled sweep, its stored search state): grid values first (each new point's trials for the
 * spec's seeds, with the baselines and controls they need), or `trials` more configurations for
 * a sampled sweep (search.trials raised; no plans: the growth step samples them), then `seeds`
 * more seeds for every configuration (the grid's, or those the search chose), or for `configs`
 * alone (each after its own highest seed). Refused with SpecError naming the field: `trials` on
 * a grid or `grid` on a search, nothing asked, `configs` without `seeds` or naming no
 * configuration of the sweep, grid values already there or a parameter the sweep cannot vary
 * (parseSweepSpec checks the grown spec at every point), a budget or more than
 * MAX_TRIALS_PER_SWEEP trials beyond the limits, or an extension that adds nothing. With
 * `configs`, the spec's seeds are left as they are.
 */
export function extendSweep(spec: SweepSpec, specText: string, trials: readonly PlannedTrial[], req: ExtendRequest, storedSearch?: unknown): SweepExtensionPlan {
  const unstorable = unstorableStrings(req);
  if (unstorable.length) throw new SpecError(unstorable);
  const sampled = isSampledSpec(spec);
  if (req.trials !== undefined && !sampled) refuse('trials', 'this sweep is a grid: add seeds (--seeds) or grid values (--grid PATH=V1,V2); more configurations are for a sampled sweep (search:)');
  if (req.grid !== undefined && sampled) refuse('grid', 'this sweep is a sampled search: it has no grid; add configurations (--trials N) or seeds (--seeds K)');
  if (req.configs && req.seeds === undefined) refuse('configs', 'names the configurations that get more seeds: give seeds too');
  if (req.seeds === undefined && req.grid === undefined && req.trials === undefined) refuse('', 'nothing to add: give seeds (more seeds per configuration), grid (more values for a grid parameter) or trials (more configurations for a search)');
  const gridKeys = Object.keys(req.grid ?? {});
  if (req.grid && gridKeys.length === 0) refuse('grid', 'name at least one parameter and its new values');
  let next = spec;
  if (req.grid) next = parseSweepSpec({ ...spec, grid: grownGrid(spec, req.grid) });
  const planned = new PlanIndex(trials);
  const lastSeed = new Map<string, number>();
  const note = (ps: readonly PlannedTrial[]) => {
    for (const p of ps) lastSeed.set(p.configKey, Math.max(lastSeed.get(p.configKey) ?? -1, p.seed));
  };
  note(trials);
  const plans: TrialPlan[] = [];
  const add = (ps: TrialPlan[]) => {
    planned.add(ps);
    note(ps);
    plans.push(...ps);
  };
  // The configurations, each at its first point: the grid's, or those the search chose.
  const points = new Map<string, Record<string, GridValue>>();
  if (sampled) for (const p of readSearchState(storedSearch).points) points.set(p.key, p.point);
  else {
    for (const point of gridPoints(next)) {
      const key = configKey(configFor(next, point));
      if (!points.has(key)) points.set(key, point);
    }
  }
  if (req.trials !== undefined) {
    const search = next.search!;
    const budget = search.trials + req.trials;
    if (budget > 10_000) refuse('trials', `the search would try ${budget} configurations; at most 10000 are allowed`);
    const most = searchTrialBound({ ...next, search: { ...search, trials: budget } });
    if (most > MAX_TRIALS_PER_SWEEP) refuse('trials', `the sweep could create up to ${most} trials with ${budget} configurations; at most ${MAX_TRIALS_PER_SWEEP} are allowed`);
    next = { ...next, search: { ...search, trials: budget } };
  }
  if (req.grid) for (const point of points.values()) add(planConfiguration(next, point, seedList(next), planned));
  const summary: string[] = [];
  if (req.grid) summary.push(...gridKeys.map((k) => `${k} += ${req.grid![k]!.map((v) => JSON.stringify(v)).join(', ')}`));
  if (req.seeds !== undefined) {
    const k = req.seeds;
    const targets = req.configs ? [...new Set(req.configs)] : [...points.keys()];
    const unknown = targets.filter((key) => !points.has(key));
    if (unknown.length) refuse('configs', `${unknown.map((u) => JSON.stringify(u)).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not a configuration of this sweep's grid (its keys: lmsweep leaderboard --sweep ID --json; a baseline or control gets seeds with the configurations that start from it)`);
    for (const key of targets) {
      const from = (lastSeed.get(key) ?? -1) + 1;
      add(planConfiguration(next, points.get(key)!, Array.from({ length: k }, (_, i) => from + i), planned));
    }
    if (!req.configs) next = { ...next, seeds: moreSeeds(next.seeds, k) };
    // A search's later configurations get the spec's seeds too: its bound must still hold.
    if (sampled && !req.configs && searchTrialBound(next) > MAX_TRIALS_PER_SWEEP) refuse('seeds', `with ${k} more seed${k > 1 ? 's' : ''} the search could create up to ${searchTrialBound(next)} trials; at most ${MAX_TRIALS_PER_SWEEP} are allowed`);
    summary.push(`${k} more seed${k > 1 ? 's' : ''} for ${req.configs ? `${targets.length} configuration${targets.length > 1 ? 's' : ''}` : `every configuration (${targets.length})`}`);
  }
  if (req.trials !== undefined) summary.unshift(`${req.trials} more configuration${req.trials > 1 ? 's' : ''} for the search (${next.search!.trials} in all; sampled as slots free, ${next.search!.parallel} at once)`);
  if (plans.length === 0 && req.trials === undefined) refuse(req.grid ? 'grid' : 'seeds', 'adds no trial: the sweep already has every configuration and seed this asks for');
  const total = trials.length + plans.length;
  if (total > MAX_TRIALS_PER_SWEEP) refuse(req.seeds !== undefined ? 'seeds' : 'grid', `the sweep would hold ${total} trials (${plans.length} more); at most ${MAX_TRIALS_PER_SWEEP} are allowed`);
  return { spec: next, specText: editedText(specText, next, { grid: gridKeys, seeds: req.seeds !== undefined && !req.configs, trials: req.trials !== undefined }), plans, summary: plans.length ? `${plans.length} trials: ${summary.join('; ')}` : summary.join('; ') };
}

/** What the coordinator hands its spec threads for an extension: the sweep as stored, and the request. */
export interface ExtensionJob {
  /** The sweep's stored (parsed) spec. */
  spec: unknown;
  specText: string;
  trials: PlannedTrial[];
  request: ExtendRequest;
  /** A sampled sweep's stored search state (its configurations get the seeds). */
  search?: unknown;
}

/** extendSweep on a sweep as stored (its spec parsed again; one that no longer parses is refused, naming the field). */
export function extendStoredSweep(job: ExtensionJob): SweepExtensionPlan {
  const parsed = SweepSpec.safeParse(job.spec);
  if (!parsed.success) throw new SpecError(zodIssues(parsed.error).map((i) => ({ path: i.path, message: `the sweep's stored spec no longer reads: ${i.message}` })));
  return extendSweep(parsed.data, job.specText, job.trials, job.request, job.search);
}
