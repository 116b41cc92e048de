// Ranking configurations: a configuration is a trial's config without its seed; its seeds
// are aggregated as a mean with a 95% Student-t confidence interval.
import { meanCI95, paretoRanks } from '@lmsweep/algorithms';
import { configLabels } from '@lmsweep/protocol/labels';
import type { FlaggedSeed, LeaderboardGroup, LeaderboardRow, StoppedRow } from '@lmsweep/db';

export type { FlaggedSeed, LeaderboardGroup, LeaderboardRow, StoppedRow };

/** Trial rows → one group per configuration, seeds in order (what TrialStore.leaderboardGroups returns). */
export function groupRows(rows: LeaderboardRow[]): LeaderboardGroup[] {
  const groups = new Map<string, LeaderboardRow[]>();
  for (const r of rows) {
    if (r.params === null || r.validPpl === null || r.testPpl === null) continue;
    const k = `${r.sweepId}/${r.configKey}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  // As in the SQL: a configuration's parameters are its unflagged seeds', and one with none is left out.
  return [...groups.values()].flatMap((g) => {
    const all = [...g].sort((a, b) => a.seed - b.seed);
    const sorted = all.filter((r) => !r.flag);
    const first = sorted[0];
    if (!first) return [];
    return {
      sweepId: first.sweepId,
      configKey: first.configKey,
      config: first.config,
      method: first.method,
      params: Math.min(...sorted.map((r) => r.params as number)),
      seeds: sorted.map((r) => r.seed),
      trialIds: sorted.map((r) => r.id),
      validPpl: sorted.map((r) => r.validPpl),
      testPpl: sorted.map((r) => r.testPpl),
      flagged: all.filter((r) => r.flag).map((r) => ({ trialId: r.id, seed: r.seed, validPpl: r.validPpl, testPpl: r.testPpl, flag: r.flag! })),
    };
  });
}

/** Mean over seeds with its 95% Student-t interval; lo/hi/halfWidth are null with one seed. */
export interface Interval {
  mean: number;
  lo: number | null;
  hi: number | null;
  halfWidth: number | null;
}

export interface LeaderboardEntry {
  sweepId: string;
  configKey: string;
  method: string;
  config: unknown;
  params: number;
  /** The seeds aggregated (flagged ones are not). */
  seeds: number[];
  trialIds: string[];
  validPpl: Interval;
  testPpl: Interval;
  /** Seeds whose result looks impossible next to the others (Trial.flag): shown, not ranked. */
  flagged: FlaggedSeed[];
  /** 0 for the Pareto front on (params, mean valid perplexity), 1 for the front of the rest, … */
  paretoRank: number;
  /** The sweep's target half-width of the validation-perplexity interval (seeds.ciHalfWidth), or null when it has none. */
  ciTarget: number | null;
  /**
   * Whether the 95% interval on validation perplexity is tight: within ±ciTarget, or, for a sweep
   * without a target, known at all (two seeds or more). The CLI and the dashboard mark the others.
   */
  ciTight: boolean;
  /** Parameters of the sweep's baseline configuration / this configuration's parameters. */
  compression: number | null;
  isBaseline: boolean;
}

export type LeaderboardSort = 'pareto' | 'validPpl' | 'testPpl' | 'params';

function interval(xs: number[]): Interval {
  const ci = meanCI95(xs);
  const orNull = (v: number) => (Number.isFinite(v) ? v : null);
  return { mean: ci.mean, lo: orNull(ci.lo), hi: orNull(ci.hi), halfWidth: orNull(ci.halfWidth) };
}

/** Whether an interval of this half-width meets a target (none: whether there is an interval). */
function tight(halfWidth: number | null, target: number | null): boolean {
  return halfWidth !== null && (target === null || halfWidth <= target);
}

export function rankConfigurations(
  groups: LeaderboardGroup[],
  baselineKeys: ReadonlyMap<string, string | null>,
  sort: LeaderboardSort = 'pareto',
  ciTargets: ReadonlyMap<string, number | null> = new Map(),
): LeaderboardEntry[] {
  const entries: LeaderboardEntry[] = groups.map((g) => ({
    sweepId: g.sweepId,
    configKey: g.configKey,
    method: g.method,
    config: g.config,
    params: g.params,
    seeds: g.seeds,
    trialIds: g.trialIds,
    validPpl: interval(g.validPpl),
    testPpl: interval(g.testPpl),
    flagged: g.flagged,
    paretoRank: 0,
    ciTarget: ciTargets.get(g.sweepId) ?? null,
    ciTight: false,
    compression: null,
    isBaseline: baselineKeys.get(g.sweepId) === g.configKey,
  }));
  for (const e of entries) e.ciTight = tight(e.validPpl.halfWidth, e.ciTarget);
  const ranks = paretoRanks(entries.map((e) => ({ x: e.params, y: e.validPpl.mean })));
  entries.forEach((e, i) => (e.paretoRank = ranks[i]!));
  const baselineParams = new Map<string, number>();
  for (const e of entries) if (e.isBaseline) baselineParams.set(e.sweepId, e.params);
  for (const e of entries) {
    const b = baselineParams.get(e.sweepId);
    e.compression = b !== undefined && e.params > 0 ? b / e.params : null;
  }
  const by: Record<LeaderboardSort, (a: LeaderboardEntry, b: LeaderboardEntry) => number> = {
    pareto: (a, b) => a.paretoRank - b.paretoRank || a.validPpl.mean - b.validPpl.mean,
    validPpl: (a, b) => a.validPpl.mean - b.validPpl.mean,
    testPpl: (a, b) => a.testPpl.mean - b.testPpl.mean,
    params: (a, b) => a.params - b.params || a.validPpl.mean - b.validPpl.mean,
  };
  return entries.sort(by[sort]);
}

/**
 * Every ranked configuration, compactly, for the Pareto plot of a paged leaderboard: one array
 * per field, in ranking order (index i is the i-th configuration of the full list), methods by
 * index into `methods`.
 */
export interface LeaderboardPlot {
  methods: string[];
  /** Each configuration named by its method and what tells it apart (@lmsweep/protocol/labels, no " (baseline)" suffix), as the table names it. */
  label: string[];
  method: number[];
  params: number[];
  mean: number[];
  lo: (number | null)[];
  hi: (number | null)[];
  halfWidth: (number | null)[];
  seeds: number[];
  paretoRank: number[];
  compression: (number | null)[];
  isBaseline: boolean[];
  ciTight: boolean[];
}

export function plotColumns(entries: LeaderboardEntry[], prefer: readonly string[] = []): LeaderboardPlot {
  const methods = [...new Set(entries.map((e) => e.method))].sort();
  const index = new Map(methods.map((m, i) => [m, i]));
  const finite = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);
  return {
    methods,
    label: configLabels(entries, { prefer, baselineSuffix: false }),
    method: entries.map((e) => index.get(e.method)!),
    params: entries.map((e) => e.params),
    mean: entries.map((e) => e.validPpl.mean),
    lo: entries.map((e) => finite(e.validPpl.lo)),
    hi: entries.map((e) => finite(e.validPpl.hi)),
    halfWidth: entries.map((e) => finite(e.validPpl.halfWidth)),
    seeds: entries.map((e) => e.seeds.length),
    paretoRank: entries.map((e) => e.paretoRank),
    compression: entries.map((e) => e.compression),
    isBaseline: entries.map((e) => e.isBaseline),
    ciTight: entries.map((e) => e.ciTight),
  };
}

export interface LeaderboardPage {
  /** Configurations in the whole ranking. */
  total: number;
  offset: number;
  /** entries [offset, offset + limit) of the ranking. */
  entries: LeaderboardEntry[];
  /** All of them, for the plot. */
  plot: LeaderboardPlot;
}

/** `prefer`: the fields the labels name wherever set (one sweep's varied keys). */
export function leaderboardPage(ranked: LeaderboardEntry[], offset: number, limit: number, prefer: readonly string[] = []): LeaderboardPage {
  return { total: ranked.length, offset, entries: ranked.slice(offset, offset + limit), plot: plotColumns(ranked, prefer) };
}

/** A seed of a configuration stopped early: where it stopped, and why. */
export interface StoppedSeed {
  trialId: string;
  seed: number;
  /** pruned: stopped for good; paused: waiting at its rung, and may yet be promoted. */
  status: 'pruned' | 'paused';
  steps: number | null;
  rung: number | null;
  /** Its last validation perplexity; null when not finite (a diverged run) or unknown. */
  validPpl: number | null;
  promotions: number;
  /** The verdict's reason. */
  reason: string | null;
  /** The verdict's threshold, when it had one (the value the configuration had to beat). */
  threshold: number | null;
}

/** A configuration whose seeds were all stopped early (pruned or paused), none finished: not ranked, listed below the ranking. */
export interface StoppedEntry {
  sweepId: string;
  configKey: string;
  method: string;
  config: unknown;
  /** paused while any seed may still be promoted, else pruned. */
  status: 'pruned' | 'paused';
  /** "stopped at step s": the furthest its seeds trained. */
  steps: number | null;
  /** The highest rung its seeds were judged at (null for the median pruner). */
  rung: number | null;
  /** Its last validation perplexity at `steps`: the mean over the seeds that got that far (their finite values); null when none is finite. */
  validPpl: number | null;
  seeds: number[];
  trialIds: string[];
  trials: StoppedSeed[];
}

const finiteOrNull = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const maxOrNull = (xs: (number | null)[]) => {
  const ok = xs.filter((x): x is number => x !== null);
  return ok.length ? Math.max(...ok) : null;
};

/**
 * Stopped trials (TrialStore.stoppedRows) → one entry per configuration: furthest first (most
 * steps), then the lowest last value; a configuration without a finite value last among equals.
 */
export function stoppedConfigurations(rows: StoppedRow[]): StoppedEntry[] {
  const groups = new Map<string, StoppedRow[]>();
  for (const r of rows) {
    const k = `${r.sweepId}/${r.configKey}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const entries = [...groups.values()].map((g): StoppedEntry => {
    const sorted = [...g].sort((a, b) => a.seed - b.seed || a.id.localeCompare(b.id));
    const first = sorted[0]!;
    const trials = sorted.map((r): StoppedSeed => {
      const v = (r.verdict ?? null) as { reason?: unknown; threshold?: unknown } | null;
      return {
        trialId: r.id,
        seed: r.seed,
        status: r.status,
        steps: r.steps,
        rung: r.rung,
        validPpl: finiteOrNull(r.validPpl),
        promotions: r.promotions,
        reason: typeof v?.reason === 'string' ? v.reason : null,
        threshold: typeof v?.threshold === 'number' ? finiteOrNull(v.threshold) : null,
      };
    });
    const steps = maxOrNull(trials.map((t) => t.steps));
    // The value where it stopped: over the seeds that got that far (a seed stopped sooner was judged at another step).
    const values = trials.filter((t) => t.steps === steps).map((t) => t.validPpl).filter((v): v is number => v !== null);
    return {
      sweepId: first.sweepId,
      configKey: first.configKey,
      method: first.method,
      config: first.config,
      status: trials.some((t) => t.status === 'paused') ? 'paused' : 'pruned',
      steps,
      rung: maxOrNull(trials.map((t) => t.rung)),
      validPpl: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
      seeds: trials.map((t) => t.seed),
      trialIds: trials.map((t) => t.trialId),
      trials,
    };
  });
  const last = (v: number | null, dir: 1 | -1) => (v === null ? Number.POSITIVE_INFINITY : dir * v);
  return entries.sort(
    (a, b) =>
      last(a.steps, -1) - last(b.steps, -1) ||
      last(a.validPpl, 1) - last(b.validPpl, 1) ||
      a.sweepId.localeCompare(b.sweepId) ||
      a.configKey.localeCompare(b.configKey),
  );
}

/** One page of the configurations stopped early, with their total. */
export interface StoppedPage {
  total: number;
  offset: number;
  entries: StoppedEntry[];
}
