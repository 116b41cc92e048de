// What a sweep's analysis views show (the dashboard's Optimization history, Intermediate values,
// Parallel coordinates, Parameter importance and Slice plots), from its spec and stored trials.
// Pure: trials in (with their validation curves), plain data out.
//   - parameters: the fields the sweep varies (grid keys or the sampled space's), each numeric
//     (with a log axis where its values span more than 30×) or categorical (its values in order);
//   - rows: one per trial with its values of those fields, objectives and where it stopped;
//   - history: after each finished trial (succeeded or pruned, in the order they finished) its
//     value, the best succeeded value so far and, when parameters vary, the hypervolume of the
//     front of parameters against validation perplexity;
//   - importance: each field's share of the variation in validation perplexity over succeeded
//     trials (libs/search parameterImportance; IMPORTANCE_METHOD names it);
//   - curves: validation curves, thinned, of at most maxCurves trials (the best by their last
//     value, so a large sweep shows its leaders), with where each paused, resumed or was stopped.
import { Front2d, IMPORTANCE_METHOD, type ImportanceColumn, parameterImportance, referencePoint } from '@lmsweep/search';
import { shortNames, variedKeys } from '@lmsweep/protocol';
import { getOwnPath, pathSegments } from './paths.ts';
import { thinnedPairs } from './thin.ts';

/** A trial as the analysis reads it (the store's AnalysisTrial). */
export interface AnalysisInput {
  id: string;
  ordinal: number;
  status: string;
  method: string;
  configKey: string;
  seed: number;
  config: unknown;
  params: number | null;
  validPpl: number | null;
  testPpl: number | null;
  finishedAt: Date | null;
  steps: number | null;
  rung: number | null;
  promotions: number;
  segments: { attempt: number; through: number }[];
  curve: { step: number; value: number }[];
}

export type AnalysisParameter =
  | { key: string; short: string; kind: 'numeric'; min: number; max: number; log: boolean }
  | { key: string; short: string; kind: 'categorical'; values: string[] };

export interface AnalysisRow {
  id: string;
  ordinal: number;
  status: string;
  method: string;
  seed: number;
  configKey: string;
  /** One per parameter: a number (numeric), the category as text, or null where the trial has no value. */
  values: (number | string | null)[];
  params: number | null;
  /** Null where not finished or not finite. */
  validPpl: number | null;
  testPpl: number | null;
  steps: number | null;
  rung: number | null;
  promotions: number;
}

export interface HistoryPoint {
  /** Trials finished, this one included. */
  finished: number;
  trialId: string;
  ordinal: number;
  status: string;
  validPpl: number | null;
  /** The lowest validation perplexity of the succeeded trials so far. */
  best: number | null;
  hypervolume: number | null;
}

export interface AnalysisCurve {
  trialId: string;
  ordinal: number;
  status: string;
  /** [step, value] in step order; value null where it was not finite. */
  points: [number, number | null][];
  /** Where it paused and later resumed (each pause's step), and the step it stopped at when pruned or paused now. */
  resumedAt: number[];
  stoppedAt: number | null;
}

export interface SweepAnalysis {
  parameters: AnalysisParameter[];
  rows: AnalysisRow[];
  history: HistoryPoint[];
  /** The hypervolume's reference: past the worst finished parameters and perplexity by a tenth of their spread; null with one objective. */
  reference: [number, number] | null;
  importance: { method: string; trials: number; items: { key: string; importance: number }[] } | null;
  curves: AnalysisCurve[];
  /** Trials with a validation curve, of which `curves` carries the best maxCurves. */
  curvesTotal: number;
}

export interface AnalysisOptions {
  /** Most trials whose curves are sent (default 200). */
  maxCurves?: number;
  /** Most points of each curve (default 200; the first and last kept, each stretch's low and high). */
  curvePoints?: number;
  /** Most history points (default 2000; thinned evenly, the last kept). */
  maxHistory?: number;
  /** Most succeeded trials the importance forest is grown on (default 3000, a seeded sample beyond). */
  maxImportanceRows?: number;
}

const finite = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);

/** A parameter's kind and range from the values the trials have. */
function describe(key: string, short: string, values: unknown[]): AnalysisParameter {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (present.length > 0 && present.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    const nums = present as number[];
    const [min, max] = [Math.min(...nums), Math.max(...nums)];
    return { key, short, kind: 'numeric', min, max, log: min > 0 && max / min > 30 };
  }
  return { key, short, kind: 'categorical', values: [...new Set(present.map(text))] };
}

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** At most `max` of the items, evenly spaced, the last always kept. */
function evenly<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(items[Math.round(((i + 1) * (items.length - 1)) / max)]!);
  return out;
}

export function analyzeSweep(spec: unknown, trials: readonly AnalysisInput[], opts: AnalysisOptions = {}): SweepAnalysis {
  const keys = variedKeys(spec);
  const names = shortNames(keys);
  const raw = trials.map((t) => keys.map((k) => (k === 'method' ? t.method : getOwnPath(t.config, pathSegments(k)).value)));
  const parameters = keys.map((k, j) => describe(k, names.get(k) ?? k, raw.map((r) => r[j])));
  const rows: AnalysisRow[] = trials.map((t, i) => ({
    id: t.id,
    ordinal: t.ordinal,
    status: t.status,
    method: t.method,
    seed: t.seed,
    configKey: t.configKey,
    values: parameters.map((p, j) => {
      const v = raw[i]![j];
      if (v === undefined || v === null) return null;
      return p.kind === 'numeric' ? (v as number) : text(v);
    }),
    params: t.params,
    validPpl: finite(t.validPpl),
    testPpl: finite(t.testPpl),
    steps: t.steps,
    rung: t.rung,
    promotions: t.promotions,
  }));

  // History: finished trials in the order they finished.
  const ended = trials.filter((t) => (t.status === 'succeeded' || t.status === 'pruned') && t.finishedAt).sort((a, b) => a.finishedAt!.getTime() - b.finishedAt!.getTime() || a.ordinal - b.ordinal);
  const twoObjectives = new Set(trials.map((t) => t.params).filter((p) => p !== null)).size > 1;
  const pairs = ended.filter((t) => t.status === 'succeeded' && finite(t.validPpl) !== null && t.params !== null).map((t) => [t.params!, t.validPpl!] as [number, number]);
  const reference = twoObjectives && pairs.length ? (referencePoint(pairs) as [number, number]) : null;
  const front = new Front2d();
  let best: number | null = null;
  let hv = 0;
  const history: HistoryPoint[] = ended.map((t, i) => {
    const v = finite(t.validPpl);
    if (t.status === 'succeeded' && v !== null) {
      best = best === null ? v : Math.min(best, v);
      if (reference && t.params !== null && front.add(t.params, v)) hv = front.hypervolume(reference);
    }
    return { finished: i + 1, trialId: t.id, ordinal: t.ordinal, status: t.status, validPpl: v, best, hypervolume: reference ? hv : null };
  });

  // Importance over succeeded trials with a finite perplexity (a seeded sample of a large sweep).
  const done = rows.filter((r) => r.status === 'succeeded' && r.validPpl !== null);
  const sample = evenly(done, opts.maxImportanceRows ?? 3000);
  const varied = parameters.map((p, j) => ({ p, j })).filter(({ p }) => (p.kind === 'numeric' ? p.max > p.min : p.values.length > 1));
  let importance: SweepAnalysis['importance'] = null;
  if (varied.length > 0 && sample.length >= 4) {
    const columns: ImportanceColumn[] = varied.map(({ p, j }) =>
      p.kind === 'numeric'
        ? { name: p.key, kind: 'numeric', values: sample.map((r) => (typeof r.values[j] === 'number' ? (r.values[j] as number) : Number.NaN)) }
        : { name: p.key, kind: 'categorical', values: sample.map((r) => String(r.values[j])) },
    );
    // A row without a value of a numeric field sorts as the lowest.
    for (const c of columns) if (c.kind === 'numeric') c.values = c.values.map((v) => (Number.isNaN(v) ? -Infinity : v));
    const imp = parameterImportance(columns, sample.map((r) => r.validPpl!), { seed: 0 });
    importance = { method: IMPORTANCE_METHOD, trials: sample.length, items: imp.map((x) => ({ key: x.name, importance: x.importance })).sort((a, b) => b.importance - a.importance) };
  }

  // Curves: the best by their last value.
  const withCurve = trials.filter((t) => t.curve.length > 0);
  const last = (t: AnalysisInput) => {
    const v = t.curve[t.curve.length - 1]!.value;
    return Number.isFinite(v) ? v : Infinity;
  };
  const chosen = [...withCurve].sort((a, b) => last(a) - last(b) || a.ordinal - b.ordinal).slice(0, opts.maxCurves ?? 200).sort((a, b) => a.ordinal - b.ordinal);
  const curves: AnalysisCurve[] = chosen.map((t) => ({
    trialId: t.id,
    ordinal: t.ordinal,
    status: t.status,
    points: thinnedPairs(t.curve, opts.curvePoints ?? 200),
    // A paused trial's last pause (or a closed one's, pruned where it waited) has not resumed.
    resumedAt: t.segments.map((s) => s.through).filter((through, i, all) => !(i === all.length - 1 && (t.status === 'paused' || t.status === 'pruned') && through === t.steps)),
    stoppedAt: t.status === 'pruned' || t.status === 'paused' ? (t.steps ?? t.curve[t.curve.length - 1]!.step) : null,
  }));
  return { parameters, rows, history: evenly(history, opts.maxHistory ?? 2000), reference, importance, curves, curvesTotal: withCurve.length };
}
