// What the storage suites share: the clock they start at, a trial result, and trial plans made
// here (the store persists plans; planning is the sweep library's, which libs/db does not import).
import { createHash } from 'node:crypto';
import { baselineConfigOf, controlConfigOf, resolveConfig, TrialConfig, type TrialPlan, type TrialResult } from '@lmsweep/protocol';

export const T0 = Date.parse('2030-01-01T00:00:00.000Z');
export const LEASE = 10_000;
export const BASE = 1_000;

export const result = (validPpl: number, params = 1000): TrialResult => ({
  params,
  paramsByLayer: { all: params },
  validPpl,
  testPpl: validPpl * 0.95,
  steps: 10,
  tokens: 1000,
  seconds: 2.5,
  tokensPerSecond: 400,
  vocabSize: 100,
  backend: 'wasm',
});

export const keyOf = (config: TrialConfig) => createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
export const planOf = (ordinal: number, config: TrialConfig, seed: number, maxAttempts: number, parentOrdinal?: number): TrialPlan => ({
  ordinal,
  config,
  configKey: keyOf(config),
  method: config.method,
  seed,
  maxAttempts,
  ...(parentOrdinal === undefined ? {} : { parentOrdinal }),
});

/** Dense trials over the product of `grid` (dotted paths, first key slowest), each configuration for `seeds` seeds. */
export function plansOf(grid: Record<string, (number | string | boolean)[]>, seeds = 1, maxAttempts = 3): TrialPlan[] {
  let points: [string, number | string | boolean][][] = [[]];
  for (const [key, values] of Object.entries(grid)) points = points.flatMap((p) => values.map((v) => [...p, [key, v] as [string, number | string | boolean]]));
  const plans: TrialPlan[] = [];
  for (const point of points) {
    const raw: Record<string, Record<string, unknown>> = {};
    for (const [key, v] of point) {
      const [section, field] = key.split('.') as [string, string];
      raw[section] = { ...raw[section], [field]: v };
    }
    const config = resolveConfig(TrialConfig.parse(raw));
    for (let seed = 0; seed < seeds; seed++) plans.push(planOf(plans.length, config, seed, maxAttempts));
  }
  return plans;
}

/** One seed of compression trials: their dense baseline first, then (with `control`) its dense + fine-tune control, then one trial per method, all starting from the baseline. */
export function compressionPlans(methods: string[], opts: { control?: boolean; maxAttempts?: number } = {}): TrialPlan[] {
  const maxAttempts = opts.maxAttempts ?? 3;
  const configs = methods.map((method) => resolveConfig(TrialConfig.parse({ method })));
  const plans = [planOf(0, baselineConfigOf(configs[0]!), 0, maxAttempts)];
  if (opts.control) plans.push(planOf(1, controlConfigOf(configs[0]!), 0, maxAttempts, 0));
  for (const config of configs) plans.push(planOf(plans.length, config, 0, maxAttempts, 0));
  return plans;
}

export async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
