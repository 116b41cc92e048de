// A spec's trial configs: its base config, the fields an override (a grid value, later a sampled
// one) may set and the values it may take, the resolved config at one point, and the key that
// names a configuration across its seeds.
import { createHash } from 'node:crypto';
import { CompressOptions, type GridValue, LowRankOptions, PhmOptions, resolveConfig, type SweepSpec, TrialConfig, zodIssues } from '@lmsweep/protocol';
import { getOwnPath, pathIssue, pathSegments, setOwnPath } from './paths.ts';

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
      model: { ...base.model, arch: 'lstm', heads: 1, ffn: 1, positions: 'learned', tied: false, phm: PhmOptions.parse({}), lowrank: LowRankOptions.parse({}) },
      budget: { maxSteps: 1, maxTokens: 1, evalEvery: 1, evalTokens: 1 },
      dataset: { name: 'x', vocabSize: 1 },
      compress: CompressOptions.parse({ weightPower: 1, finetune: { maxSteps: 1, lr: 1, evalEvery: 1 } }),
    };
  }
  return overrideTemplate;
}

/** Checks one dotted-path override of a config; returns an error message when the path or value is not allowed. */
export function checkOverride(key: string, value: GridValue): string | null {
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
