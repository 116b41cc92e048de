// Configurations of one sweep side by side (the dashboard's Compare): for 2–8 configurations, what
// differs in their configs (every other field left out), each one's seeds with the mean and 95%
// interval of its perplexity, its trials' validation curves, and each against the first, paired by
// seed over the seeds both succeeded on — the mean difference with its 95% interval and the paired
// t-test's p, Holm-corrected over the comparisons. A baseline and its compressions share seeds:
// pairing removes the seed's own luck from the difference. Pure: trials in, plain data out.
import { holmAdjust, meanCI95, pairedDifference } from '@lmsweep/algorithms';
import { configLabels, flattenConfig, variedKeys } from '@lmsweep/protocol';
import type { AnalysisInput } from './analysis.ts';
import { thinnedPairs } from './thin.ts';

export const COMPARE_MIN = 2;
export const COMPARE_MAX = 8;

/** A mean with its 95% interval; null where it is unknown (one value: no interval). */
export interface Interval {
  mean: number | null;
  lo: number | null;
  hi: number | null;
  n: number;
}

export interface ComparedConfig {
  configKey: string;
  method: string;
  label: string;
  params: number | null;
  /** Its values of the fields that differ between the configurations (CompareResult.fields), as text. */
  values: string[];
  trials: { id: string; ordinal: number; seed: number; status: string; validPpl: number | null; testPpl: number | null; curve: [number, number | null][] }[];
  validPpl: Interval;
  testPpl: Interval;
}

export interface PairedComparison {
  /** Index into configs (never 0: the first is the reference). */
  config: number;
  /** Seeds both succeeded on. */
  seeds: number[];
  /** This configuration minus the first, seed by seed: negative is better. */
  valid: Interval & { p: number | null; pHolm: number | null };
  test: Interval & { p: number | null; pHolm: number | null };
}

export interface CompareResult {
  /** Config fields (dotted paths) whose values differ between the configurations; method first when it does. */
  fields: string[];
  configs: ComparedConfig[];
  paired: PairedComparison[];
}

const num = (v: number) => (Number.isFinite(v) ? v : null);
const interval = (xs: number[]): Interval => {
  const ci = meanCI95(xs);
  return { mean: num(ci.mean), lo: num(ci.lo), hi: num(ci.hi), n: ci.n };
};

const text = (v: unknown) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

/** The comparison of `configKeys` (in that order) among the sweep's trials; throws naming what is wrong. */
export function compareConfigs(spec: unknown, trials: readonly AnalysisInput[], configKeys: readonly string[], opts: { curvePoints?: number } = {}): CompareResult {
  if (configKeys.length < COMPARE_MIN || configKeys.length > COMPARE_MAX) throw new RangeError(`configKeys: compare ${COMPARE_MIN} to ${COMPARE_MAX} configurations, not ${configKeys.length}`);
  if (new Set(configKeys).size !== configKeys.length) throw new RangeError('configKeys: a configuration is named twice');
  const groups = configKeys.map((k) => {
    const ts = trials.filter((t) => t.configKey === k).sort((a, b) => a.seed - b.seed || a.ordinal - b.ordinal);
    if (ts.length === 0) throw new RangeError(`configKeys: no trial of configuration ${k} in this sweep`);
    return ts;
  });
  const flat = groups.map((ts) => {
    const f = flattenConfig(ts[0]!.config);
    delete f.seed;
    f.method = ts[0]!.method;
    return f;
  });
  const all = [...new Set(flat.flatMap((f) => Object.keys(f)))];
  const fields = all.filter((k) => new Set(flat.map((f) => text(f[k]))).size > 1).sort((a, b) => (a === 'method' ? -1 : b === 'method' ? 1 : all.indexOf(a) - all.indexOf(b)));
  const labels = configLabels(
    groups.map((ts) => ({ method: ts[0]!.method, config: ts[0]!.config })),
    { prefer: variedKeys(spec), baselineSuffix: false },
  );
  const ok = (t: AnalysisInput, v: number | null) => t.status === 'succeeded' && v !== null && Number.isFinite(v);
  const configs: ComparedConfig[] = groups.map((ts, i) => ({
    configKey: configKeys[i]!,
    method: ts[0]!.method,
    label: labels[i]!,
    params: ts.find((t) => t.params !== null)?.params ?? null,
    values: fields.map((k) => text(flat[i]![k])),
    trials: ts.map((t) => ({ id: t.id, ordinal: t.ordinal, seed: t.seed, status: t.status, validPpl: ok(t, t.validPpl) ? t.validPpl : null, testPpl: ok(t, t.testPpl) ? t.testPpl : null, curve: thinnedPairs(t.curve, opts.curvePoints ?? 300) })),
    validPpl: interval(ts.filter((t) => ok(t, t.validPpl)).map((t) => t.validPpl!)),
    testPpl: interval(ts.filter((t) => ok(t, t.testPpl)).map((t) => t.testPpl!)),
  }));
  const bySeed = (i: number, metric: 'validPpl' | 'testPpl') => new Map(configs[i]!.trials.filter((t) => t[metric] !== null).map((t) => [t.seed, t[metric]!]));
  const raw = configs.slice(1).map((_, j) => {
    const i = j + 1;
    const pair = (metric: 'validPpl' | 'testPpl') => {
      const [a, b] = [bySeed(i, metric), bySeed(0, metric)];
      const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
      const d = pairedDifference(seeds.map((s) => a.get(s)!), seeds.map((s) => b.get(s)!));
      return { seeds, d };
    };
    return { i, valid: pair('validPpl'), test: pair('testPpl') };
  });
  const holmValid = holmAdjust(raw.map((r) => r.valid.d.p));
  const holmTest = holmAdjust(raw.map((r) => r.test.d.p));
  const paired: PairedComparison[] = raw.map((r, j) => ({
    config: r.i,
    seeds: r.valid.seeds,
    valid: { mean: num(r.valid.d.mean), lo: num(r.valid.d.lo), hi: num(r.valid.d.hi), n: r.valid.d.n, p: num(r.valid.d.p), pHolm: num(holmValid[j]!) },
    test: { mean: num(r.test.d.mean), lo: num(r.test.d.lo), hi: num(r.test.d.hi), n: r.test.d.n, p: num(r.test.d.p), pHolm: num(holmTest[j]!) },
  }));
  return { fields, configs, paired };
}
