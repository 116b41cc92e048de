// A sweep spec becomes a list of trial plans: the product of its grid, times its seeds.
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { type CompressionMethod, rateIssue } from '@lmsweep/algorithms';
import {
  baselineConfigOf,
  compressedMatrices,
  CompressOptions,
  compressionIssues,
  controlConfigOf,
  type FieldIssue,
  type GridValue,
  LowRankOptions,
  MAX_TRIALS_PER_SWEEP,
  isCompressionMethod,
  PhmOptions,
  resolveConfig,
  SpecError,
  startsFromBaseline,
  SweepSpec,
  TrialConfig,
  zodIssues,
} from '@lmsweep/protocol';
import { getOwnPath, pathIssue, pathSegments, setOwnPath } from './paths.ts';
import { checkSampledSpec, isSampledSpec } from './sampled-spec.ts';
import { storableText, UNSTORABLE_MESSAGE, unstorableStrings } from '@lmsweep/protocol';

export interface TrialPlan {
  /** Position in the expansion: grid point-major, seed-minor. */
  ordinal: number;
  config: TrialConfig;
  /** Hash of the config (no seed): equal for the seeds of one configuration. */
  configKey: string;
  method: string;
  seed: number;
  maxAttempts: number;
  /** A compression trial (or the control) starts from the checkpoint of this plan (its baseline: method dense, same seed). */
  parentOrdinal?: number;
}

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
  if (isSampledSpec(spec)) return checkSampledSpec(spec, raw as Record<string, unknown>, checkOverride);
  const issues: FieldIssue[] = [];
  // The size is known before any work: refuse an oversized sweep before checking its values.
  const gridKeys = Object.keys(spec.grid);
  if (gridKeys.length > MAX_GRID_KEYS) throw new SpecError([{ path: 'grid', message: `a grid has at most ${MAX_GRID_KEYS} parameters; this one has ${gridKeys.length}` }]);
  const compressing = [spec.method, ...(spec.grid['method'] ?? [])].some((m) => typeof m === 'string' && startsFromBaseline(m));
  // Compression trials may add one baseline trial per configuration and seed (and a control).
  const count = gridSize(spec) * seedList(spec).length * (compressing ? (spec.compress?.control ? 3 : 2) : 1);
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
  if (spec.compress?.control && ![spec.method, ...(spec.grid['method'] ?? [])].some((m) => typeof m === 'string' && isCompressionMethod(m))) issues.push({ path: 'compress.control', message: 'the sweep has no compression method (method or grid.method) to add a dense + fine-tune control for' });
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

/** Vocabulary sizes of the bundled datasets (when the spec sets no vocabSize). */
const BUNDLED_VOCAB: ReadonlyMap<string, number> = new Map([['ptb', 10_000]]);

/** Most parameters one grid may vary (each adds a factor to the product; real grids vary a handful). */
export const MAX_GRID_KEYS = 32;

/**
 * Compression options that cannot be built, at every grid point (PHM's n must divide each chosen
 * matrix's sizes; a rank may not exceed a matrix's smaller side), so a bad spec is refused at
 * launch rather than on a worker. The softmax is checked when the vocabulary size is known
 * (dataset.vocabSize, or a bundled dataset's).
 */
function shapeIssues(spec: SweepSpec): FieldIssue[] {
  const seen = new Set<string>();
  const out: FieldIssue[] = [];
  for (const point of gridPoints(spec)) {
    const config = configFor(spec, point);
    const vocab = config.dataset.vocabSize ?? BUNDLED_VOCAB.get(config.dataset.name);
    const where = Object.keys(point).length ? ` (at grid point ${Object.entries(point).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})` : '';
    const found = compressionIssues(config.model, vocab);
    if (config.compress && vocab !== undefined) found.push(...rateIssues(config, vocab));
    for (const issue of found) {
      const key = `${issue.path}\u0000${issue.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ path: issue.path, message: `${issue.message}${where}` });
      if (out.length >= 20) return out;
    }
  }
  return out;
}

/** Compression rates no integer ranks of the method meet within 1% on the matrices it compresses, with the nearest it can (algorithms' rateIssue: exact from the sizes). */
function rateIssues(config: TrialConfig, vocab: number): FieldIssue[] {
  const c = config.compress!;
  const out: FieldIssue[] = [];
  for (const m of compressedMatrices(c.target, config.model, vocab)) {
    const problem = rateIssue(config.method as CompressionMethod, m.N, m.D, c.rate, c.blocks);
    if (problem) out.push({ path: problem.startsWith('blocks') ? 'compress.blocks' : 'compress.rate', message: `${m.name} (${m.N}×${m.D}): ${problem}` });
  }
  return out;
}

export function seedList(spec: SweepSpec): number[] {
  return typeof spec.seeds === 'number' ? Array.from({ length: spec.seeds }, (_, i) => i) : [...spec.seeds];
}

export function gridSize(spec: SweepSpec): number {
  return Object.values(spec.grid).reduce((n, vs) => n * vs.length, 1);
}

/** The base trial config of a spec, before grid overrides. */
export function baseConfig(spec: SweepSpec): TrialConfig {
  return TrialConfig.parse({
    method: spec.method,
    dataset: spec.dataset,
    model: spec.model,
    training: spec.training,
    budget: spec.budget,
    compress: spec.compress,
  });
}

/** Every field a grid may set, with a placeholder value (sections filled in, so their fields can be named). */
let overrideTemplate: Record<string, unknown> | null = null;
function overrideFields(): Record<string, unknown> {
  if (!overrideTemplate) {
    const base = TrialConfig.parse({});
    overrideTemplate = {
      ...base,
      model: { ...base.model, phm: PhmOptions.parse({}), lowrank: LowRankOptions.parse({}) },
      budget: { maxSteps: 1, maxTokens: 1, evalEvery: 1, evalTokens: 1 },
      dataset: { name: 'x', vocabSize: 1 },
      compress: CompressOptions.parse({ finetune: { maxSteps: 1, lr: 1, evalEvery: 1 } }),
    };
  }
  return overrideTemplate;
}

/** Checks one dotted-path override of a config; returns an error message when the path or value is not allowed. */
function checkOverride(key: string, value: GridValue): string | null {
  const bad = pathIssue(key);
  if (bad) return bad;
  const parts = key.split('.');
  const field = getOwnPath(overrideFields(), parts);
  if (!field.found) return `unknown parameter "${key}"`;
  if (typeof field.value === 'object' && field.value !== null) return `"${key}" is a section; name one of its fields`;
  const trial = setOwnPath(structuredClone(TrialConfig.parse({})) as unknown as Record<string, unknown>, parts, value);
  const r = TrialConfig.safeParse(trial);
  if (!r.success) return `value ${JSON.stringify(value)}: ${zodIssues(r.error).map((i) => i.message).join('; ')}`;
  return null;
}

/** Stable JSON: keys sorted, so equal configs hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function configKey(config: TrialConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16);
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
 * The trial config at a grid point, resolved (protocol's resolveConfig): its model keeps only the
 * options section of its method, with defaults filled in, so a dense point of a grid over
 * model.phm.n is one configuration, not one per n; `compress` is kept only by compression methods.
 */
export function configFor(spec: SweepSpec, point: Record<string, GridValue>): TrialConfig {
  const cfg = structuredClone(baseConfig(spec)) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(point)) setOwnPath(cfg, pathSegments(key), value);
  return resolveConfig(TrialConfig.parse(cfg));
}

/**
 * The full list of trials a spec asks for; grid points that give the same configuration run once.
 * A compression trial (or a dense-finetune control) depends on the dense trial of its
 * configuration with the same seed (its baseline): when the grid has none, the expansion adds it,
 * before its first dependent. With compress.control, each compression trial's control (its
 * baseline fine-tuned alike, controlConfigOf) is added the same way, once per baseline, seed and
 * fine-tuning setting, right before its first compression trial.
 */
export function expandSweep(spec: SweepSpec): TrialPlan[] {
  const seeds = seedList(spec);
  const plans: TrialPlan[] = [];
  const keys = new Set<string>();
  /** `${configKey}/${seed}` → ordinal of every plan. */
  const planned = new Map<string, number>();
  const add = (config: TrialConfig, key: string, seed: number, parentOrdinal?: number) => {
    const plan: TrialPlan = { ordinal: plans.length, config, configKey: key, method: config.method, seed, maxAttempts: spec.maxAttempts };
    if (parentOrdinal !== undefined) plan.parentOrdinal = parentOrdinal;
    planned.set(`${key}/${seed}`, plan.ordinal);
    plans.push(plan);
  };
  for (const point of gridPoints(spec)) {
    const config = configFor(spec, point);
    const key = configKey(config);
    if (keys.has(key)) continue;
    keys.add(key);
    const parent = startsFromBaseline(config.method) ? baselineConfigOf(config) : undefined;
    const parentKey = parent && configKey(parent);
    if (parentKey) keys.add(parentKey);
    const control = spec.compress?.control && isCompressionMethod(config.method) ? controlConfigOf(config) : undefined;
    const controlKey = control && configKey(control);
    if (controlKey) keys.add(controlKey);
    for (const seed of seeds) {
      if (!parent || !parentKey) {
        add(config, key, seed);
        continue;
      }
      if (!planned.has(`${parentKey}/${seed}`)) add(parent, parentKey, seed);
      const parentOrdinal = planned.get(`${parentKey}/${seed}`)!;
      if (control && controlKey && !planned.has(`${controlKey}/${seed}`)) add(control, controlKey, seed, parentOrdinal);
      add(config, key, seed, parentOrdinal);
    }
  }
  return plans;
}

/** The configKey of the spec's baseline grid point, if it names one. */
export function baselineKey(spec: SweepSpec): string | null {
  if (!spec.baseline) return null;
  return configKey(configFor(spec, spec.baseline));
}
