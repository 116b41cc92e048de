// What `lmsweep report` says about one sweep, as data: the compute it spent, each configuration
// over its seeds, the paired comparisons (a compressed configuration against its baseline, its
// dense + fine-tune control and SVD at the same rate, paired by seed, Holm-corrected), fine-tuning
// before and after, the ranks each method chose, the trials stopped early. Pure: the command
// fetches the sweep, its trials and its leaderboard, and render.ts writes this out.
import { holmAdjust, meanCI95, pairedDifference, type MeanCI, type PairedDifference } from '@lmsweep/algorithms';
import { COMPRESSION_METHODS, CONTROL_METHOD, configLabels, flattenConfig, methodLabel, ReferenceTable, variedKeys } from '@lmsweep/protocol';

/** A configuration as the leaderboard ranks it (libs/api LeaderboardEntry, the fields read here). */
export interface ReportConfiguration {
  configKey: string;
  method: string;
  config?: unknown;
  params: number;
  seeds: number[];
  trialIds: string[];
  paretoRank: number;
  compression: number | null;
  isBaseline: boolean;
}

/** A trial as `trials.list` returns it (the fields read here). */
export interface ReportTrial {
  id: string;
  configKey: string;
  method: string;
  config: unknown;
  seed: number;
  status: string;
  parentId: string | null;
  params: number | null;
  validPpl: number | null;
  testPpl: number | null;
  seconds: number | null;
  steps: number | null;
  rung: number | null;
  leaseOwner: string | null;
  result: unknown;
}

export interface ReportInput {
  sweep: { id: string; name: string; status: string; spec: unknown; specText: string; createdAt: string | Date; finishedAt?: string | Date | null };
  configurations: readonly ReportConfiguration[];
  trials: readonly ReportTrial[];
  /** Validation perplexity per trial over steps (downsampled is fine); absent: no curves figure. */
  curves?: ReadonlyMap<string, readonly { step: number; value: number | null }[]>;
}

export interface ConfigurationRow {
  /** 1-based, the order of the table; the figures mark points with it. */
  n: number;
  configKey: string;
  label: string;
  method: string;
  params: number;
  /** Baseline parameters / these (null without a baseline). */
  rate: number | null;
  isBaseline: boolean;
  front: boolean;
  validPpl: MeanCI;
  testPpl: MeanCI;
  /** Whether its trials start from a baseline's checkpoint (compression methods and the control). */
  finetuned: boolean;
}

export interface Comparison {
  /** Row numbers of the two configurations: `a` − `b`. */
  a: number;
  b: number;
  against: 'baseline' | 'control' | 'svd at the same rate' | 'low-rank nearest in parameters';
  seeds: number[];
  valid: PairedDifference;
  test: PairedDifference;
  /** Holm-adjusted over every comparison of the report, per metric. */
  validPHolm: number;
  testPHolm: number;
}

export interface FinetuneRow {
  n: number;
  seeds: number;
  lr: number;
  steps: number;
  /** Mean over seeds: before the first fine-tuning step (right after compression), after the last, and the best point the result keeps. */
  validBefore: number;
  validLast: number;
  validBest: number;
  /** Steps at which the best point was, per seed. */
  bestSteps: number[];
  /** The baseline checkpoint, measured again by the compression trial (null for the control). */
  baselineValid: number | null;
}

export interface RankRow {
  n: number;
  matrix: string;
  shape: string;
  rate: number;
  /** Frequency-weighted relative reconstruction error, mean over seeds. */
  werr: number;
  /** The error with every word weighing alike, mean over seeds (null: results from before it was reported). */
  error: number | null;
  /** Validation perplexity right after compression, before any fine-tuning (of the whole model: every matrix it compressed), mean over seeds. */
  validBefore: number | null;
  /** Block ranks of the lowest seed; `differ` when another seed chose others. */
  ranks: number[];
  differ: boolean;
  /** GroupReduce: words that changed block per iteration, the weighted error per iterate (0: dynamic rank), the iterate kept; of the lowest seed. */
  refinement: { moved: number[]; werr: number[]; kept: number } | null;
}

export interface StoppedRow {
  label: string;
  method: string;
  trials: number;
  /** Mean of the last values reported before the stop. */
  lastValue: number | null;
  steps: number[];
  rung: number | null;
}

export interface ReferenceLine {
  label: string;
  params: number | null;
  validPpl: number | null;
  testPpl: number | null;
  note: string | null;
  /** Row numbers of this sweep's configurations it stands beside (its method and `where` fields). */
  ours: number[];
}

export interface Report {
  sweep: ReportInput['sweep'];
  compute: { trials: number; byStatus: Record<string, number>; tokens: number; workerHours: number; workers: number; backends: string[] };
  configurations: ConfigurationRow[];
  comparisons: Comparison[];
  finetune: FinetuneRow[];
  ranks: RankRow[];
  stopped: StoppedRow[];
  curves: { n: number; label: string; method: string; finetuned: boolean; points: { step: number; value: number }[] }[];
  /** The spec's `reference:` table, if it has one. */
  reference: { source: string; lines: ReferenceLine[] } | null;
  /** What a reader must know before trusting a comparison (an unequal budget). */
  warnings: string[];
}

type Loose = Record<string, unknown>;
const asObject = (v: unknown): Loose | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const avg = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Training tokens a trial spent: its result's count, or the steps it trained (pruned, paused) × batch × unroll. */
function tokensOf(t: ReportTrial): number {
  const fromResult = num(asObject(t.result)?.tokens);
  if (fromResult !== null) return fromResult;
  const training = asObject(asObject(t.config)?.training);
  const perStep = (num(training?.batchSize) ?? 0) * (num(training?.unroll) ?? 0);
  return (t.steps ?? 0) * perStep;
}

const COMPRESSING: ReadonlySet<string> = new Set(COMPRESSION_METHODS);

export function buildReport(input: ReportInput): Report {
  const trials = new Map(input.trials.map((t) => [t.id, t]));
  const labels = configLabels(input.configurations, { prefer: variedKeys(input.sweep.spec) });
  const rows: ConfigurationRow[] = input.configurations.map((c, i) => {
    const own = c.trialIds.map((id) => trials.get(id)).filter((t): t is ReportTrial => t !== undefined);
    return {
      n: i + 1,
      configKey: c.configKey,
      label: labels[i]!,
      method: c.method,
      params: c.params,
      rate: c.compression,
      isBaseline: c.isBaseline,
      front: c.paretoRank === 0,
      validPpl: meanCI95(own.map((t) => t.validPpl ?? NaN)),
      testPpl: meanCI95(own.map((t) => t.testPpl ?? NaN)),
      finetuned: own.some((t) => t.parentId !== null),
    };
  });
  const bySeed = input.configurations.map((c) => {
    const m = new Map<number, ReportTrial>();
    c.seeds.forEach((s, j) => {
      const t = trials.get(c.trialIds[j]!);
      if (t) m.set(s, t);
    });
    return m;
  });

  const finetune = finetuneRows(rows, bySeed);
  return {
    sweep: input.sweep,
    compute: compute(input.trials),
    configurations: rows,
    comparisons: comparisons(input.configurations, rows, bySeed),
    finetune,
    ranks: rankRows(rows, bySeed),
    stopped: stoppedRows(input),
    curves: input.curves ? curveRows(rows, bySeed, input.curves) : [],
    reference: referenceLines(input.sweep.spec, input.configurations, rows),
    warnings: warnings(rows, finetune),
  };
}

/** A compression sweep without its control compares models trained unequally long: say so, with how much longer. */
function warnings(rows: readonly ConfigurationRow[], finetune: readonly FinetuneRow[]): string[] {
  if (rows.some((r) => r.method === CONTROL_METHOD)) return [];
  const longer = finetune.filter((f) => f.steps > 0);
  if (!longer.length) return [];
  const steps = [...new Set(longer.map((f) => f.steps))].sort((a, b) => a - b).join(', ');
  return [
    `No dense + fine-tune control: each compressed configuration trained ${steps} fine-tuning steps after its baseline's, so its difference from the baseline is partly those steps, not the compression. A launch adds that dense row trained as long unless the spec says \`compress.control: false\`; this sweep has none.`,
  ];
}

function referenceLines(spec: unknown, configs: readonly ReportConfiguration[], rows: readonly ConfigurationRow[]): Report['reference'] {
  const parsed = ReferenceTable.safeParse(asObject(spec)?.reference);
  if (!parsed.success) return null;
  const flat = configs.map((c) => flattenConfig(c.config));
  return {
    source: parsed.data.source,
    lines: parsed.data.rows.map((r) => ({
      label: r.label,
      params: r.params ?? null,
      validPpl: r.validPpl ?? null,
      testPpl: r.testPpl ?? null,
      note: r.note ?? null,
      ours: r.method === undefined ? [] : configs.flatMap((c, i) => (c.method === r.method && Object.entries(r.where ?? {}).every(([k, v]) => flat[i]![k] === v) ? [rows[i]!.n] : [])),
    })),
  };
}

function compute(trials: readonly ReportTrial[]): Report['compute'] {
  const byStatus: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const t of trials) byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
  const backends = new Set<string>();
  for (const t of trials) {
    const b = asObject(t.result)?.backend;
    if (typeof b === 'string') backends.add(b);
  }
  return {
    trials: trials.length,
    byStatus,
    tokens: trials.reduce((s, t) => s + tokensOf(t), 0),
    workerHours: trials.reduce((s, t) => s + (t.seconds ?? 0), 0) / 3600,
    workers: new Set(trials.filter((t) => t.status === 'succeeded' && t.leaseOwner).map((t) => t.leaseOwner)).size,
    backends: [...backends].sort(),
  };
}

/** Whether two configurations set everything alike but their method and its factorization (model.phm, model.lowrank). */
function trainedAlike(a: unknown, b: unknown): boolean {
  const rest = (c: unknown) => {
    const f = flattenConfig(c);
    return JSON.stringify(Object.keys(f).filter((k) => k !== 'method' && !k.startsWith('model.phm') && !k.startsWith('model.lowrank')).sort().map((k) => [k, f[k]]));
  };
  return rest(a) === rest(b);
}

/** The configurations each one is compared with, by seed: its baseline, its control, SVD at its rate (compression methods), low-rank nearest in parameters (PHM). */
function comparisons(configs: readonly ReportConfiguration[], rows: readonly ConfigurationRow[], bySeed: readonly Map<number, ReportTrial>[]): Comparison[] {
  const baseline = configs.findIndex((c) => c.isBaseline);
  const parents = (i: number) => new Set([...bySeed[i]!.values()].map((t) => t.parentId).filter((p) => p !== null));
  const shares = (i: number, j: number) => [...parents(i)].some((p) => parents(j).has(p));
  const compressAt = (i: number) => {
    const f = flattenConfig(configs[i]!.config);
    return `${String(f['compress.rate'])}/${String(f['compress.target'])}`;
  };
  const pairs: { a: number; b: number; against: Comparison['against'] }[] = [];
  configs.forEach((c, i) => {
    if (c.isBaseline) return;
    if (baseline >= 0) pairs.push({ a: i, b: baseline, against: 'baseline' });
    if (COMPRESSING.has(c.method)) {
      const control = configs.findIndex((d, j) => d.method === CONTROL_METHOD && shares(i, j));
      if (control >= 0) pairs.push({ a: i, b: control, against: 'control' });
      if (c.method !== 'svd') {
        const svd = configs.findIndex((d, j) => d.method === 'svd' && shares(i, j) && compressAt(j) === compressAt(i));
        if (svd >= 0) pairs.push({ a: i, b: svd, against: 'svd at the same rate' });
      }
    }
    if (c.method === 'phm') {
      // Among the low-rank configurations trained alike (the same settings but the factorization's
      // own, e.g. the same learning rate), else among all, the nearest in parameters.
      const all = configs.map((d, j) => ({ d, j })).filter(({ d }) => d.method === 'lowrank');
      const alike = all.filter(({ d }) => trainedAlike(d.config, c.config));
      const lowrank = (alike.length ? alike : all).sort((x, y) => Math.abs(Math.log(x.d.params / c.params)) - Math.abs(Math.log(y.d.params / c.params)))[0];
      if (lowrank) pairs.push({ a: i, b: lowrank.j, against: 'low-rank nearest in parameters' });
    }
  });
  const measured = pairs.map((p) => {
    const seeds = [...bySeed[p.a]!.keys()].filter((s) => bySeed[p.b]!.has(s)).sort((x, y) => x - y);
    const of = (i: number, k: 'validPpl' | 'testPpl') => seeds.map((s) => bySeed[i]!.get(s)![k] ?? NaN);
    return { ...p, seeds, valid: pairedDifference(of(p.a, 'validPpl'), of(p.b, 'validPpl')), test: pairedDifference(of(p.a, 'testPpl'), of(p.b, 'testPpl')) };
  });
  const vHolm = holmAdjust(measured.map((m) => m.valid.p));
  const tHolm = holmAdjust(measured.map((m) => m.test.p));
  return measured.map((m, k) => ({ a: rows[m.a]!.n, b: rows[m.b]!.n, against: m.against, seeds: m.seeds, valid: m.valid, test: m.test, validPHolm: vHolm[k]!, testPHolm: tHolm[k]! }));
}

function finetuneRows(rows: readonly ConfigurationRow[], bySeed: readonly Map<number, ReportTrial>[]): FinetuneRow[] {
  return rows.flatMap((r, i) => {
    const reports = [...bySeed[i]!.values()].map((t) => ({ t, f: asObject(asObject(t.result)?.finetune), c: asObject(asObject(t.result)?.compression) })).filter((x) => x.f !== null);
    if (!reports.length) return [];
    const field = (k: string) => reports.map((x) => num(x.f![k]) ?? NaN);
    const baselines = reports.map((x) => num(x.c?.baselineValidPpl)).filter((v): v is number => v !== null);
    return {
      n: r.n,
      seeds: reports.length,
      lr: field('lr')[0]!,
      steps: field('steps')[0]!,
      validBefore: avg(field('validPplBefore')),
      validLast: avg(field('validPplLast')),
      validBest: avg(reports.map((x) => x.t.validPpl ?? NaN)),
      bestSteps: field('bestStep'),
      baselineValid: baselines.length ? avg(baselines) : null,
    };
  });
}

function rankRows(rows: readonly ConfigurationRow[], bySeed: readonly Map<number, ReportTrial>[]): RankRow[] {
  return rows.flatMap((r, i) => {
    const seeds = [...bySeed[i]!.entries()].sort((a, b) => a[0] - b[0]);
    const compressions = seeds.map(([, t]) => asObject(asObject(t.result)?.compression)).filter((c): c is Loose => c !== null);
    const matrices = compressions.map((c) => asObject(c.matrices)).filter((m): m is Loose => m !== null);
    if (!matrices.length) return [];
    const before = compressions.map((c) => num(c.validPplBefore));
    const validBefore = before.every((v) => v !== null) ? avg(before as number[]) : null;
    return Object.keys(matrices[0]!).map((name) => {
      const all = matrices.map((m) => asObject(m[name])).filter((m): m is Loose => m !== null);
      const first = all[0]!;
      const ranks = Array.isArray(first.ranks) ? (first.ranks as number[]) : [];
      const ref = asObject(first.refinement);
      return {
        n: r.n,
        matrix: name,
        shape: `${String(first.rows)}×${String(first.cols)}`,
        rate: num(first.rate) ?? NaN,
        werr: avg(all.map((m) => num(m.werr) ?? NaN)),
        error: all.every((m) => num(m.error) !== null) ? avg(all.map((m) => num(m.error)!)) : null,
        validBefore,
        ranks,
        differ: all.some((m) => JSON.stringify(m.ranks) !== JSON.stringify(ranks)),
        refinement: ref && Array.isArray(ref.moved) && Array.isArray(ref.werr) ? { moved: ref.moved as number[], werr: ref.werr as number[], kept: num(ref.kept) ?? 0 } : null,
      };
    });
  });
}

/** Configurations none of whose seeds finished because the pruner stopped (or paused) them. */
function stoppedRows(input: ReportInput): StoppedRow[] {
  const ranked = new Set(input.configurations.map((c) => c.configKey));
  const groups = new Map<string, ReportTrial[]>();
  for (const t of input.trials) {
    if (ranked.has(t.configKey) || (t.status !== 'pruned' && t.status !== 'paused')) continue;
    const g = groups.get(t.configKey);
    if (g) g.push(t);
    else groups.set(t.configKey, [t]);
  }
  const list = [...groups.values()];
  const labels = configLabels(
    list.map((g) => ({ method: g[0]!.method, config: g[0]!.config })),
    { prefer: variedKeys(input.sweep.spec) },
  );
  return list
    .map((g, i) => {
      const values = g.map((t) => t.validPpl).filter((v): v is number => v !== null);
      const rungs = g.map((t) => t.rung).filter((v): v is number => v !== null);
      return {
        label: labels[i]!,
        method: g[0]!.method,
        trials: g.length,
        lastValue: values.length ? avg(values) : null,
        steps: g.map((t) => t.steps ?? 0).sort((a, b) => a - b),
        rung: rungs.length ? Math.max(...rungs) : null,
      };
    })
    .sort((a, b) => (a.lastValue ?? Infinity) - (b.lastValue ?? Infinity));
}

/** Each configuration's validation curve: the mean over its seeds at the steps every seed reported. */
function curveRows(rows: readonly ConfigurationRow[], bySeed: readonly Map<number, ReportTrial>[], curves: NonNullable<ReportInput['curves']>): Report['curves'] {
  return rows.flatMap((r, i) => {
    const per = [...bySeed[i]!.values()].map((t) => new Map((curves.get(t.id) ?? []).filter((p) => p.value !== null).map((p) => [p.step, p.value as number])));
    if (!per.length || per.some((m) => m.size === 0)) return [];
    const steps = [...per[0]!.keys()].filter((s) => per.every((m) => m.has(s))).sort((a, b) => a - b);
    return { n: r.n, label: r.label, method: methodLabel(r.method), finetuned: r.finetuned, points: steps.map((step) => ({ step, value: avg(per.map((m) => m.get(step)!)) })) };
  });
}
