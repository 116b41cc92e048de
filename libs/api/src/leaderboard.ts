// Ranking configurations: a configuration is a trial's config without its seed; its seeds
// are aggregated as a mean with a 95% Student-t confidence interval.
import { meanCI95, paretoFront } from '@lmsweep/algorithms';
import type { LeaderboardRow } from '@lmsweep/db';

export type { LeaderboardRow };

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
  seeds: number[];
  trialIds: string[];
  validPpl: Interval;
  testPpl: Interval;
  /** 0 for the Pareto front on (params, mean valid perplexity), 1 for the front of the rest, … */
  paretoRank: number;
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

/** Non-dominated sorting: peel Pareto fronts until every entry has a rank. */
function paretoRanks(points: { x: number; y: number }[]): number[] {
  const rank = new Array<number>(points.length).fill(-1);
  let left = points.map((_, i) => i);
  for (let r = 0; left.length > 0; r++) {
    const front = paretoFront(left.map((i) => points[i]!));
    const next: number[] = [];
    left.forEach((i, k) => (front[k] ? (rank[i] = r) : next.push(i)));
    left = next;
  }
  return rank;
}

export function rankConfigurations(
  rows: LeaderboardRow[],
  baselineKeys: ReadonlyMap<string, string | null>,
  sort: LeaderboardSort = 'pareto',
): LeaderboardEntry[] {
  const groups = new Map<string, LeaderboardRow[]>();
  for (const r of rows) {
    if (r.params === null || r.validPpl === null || r.testPpl === null) continue;
    const k = `${r.sweepId}/${r.configKey}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const entries: LeaderboardEntry[] = [...groups.values()].map((g) => {
    const first = g[0]!;
    const sorted = [...g].sort((a, b) => a.seed - b.seed);
    return {
      sweepId: first.sweepId,
      configKey: first.configKey,
      method: first.method,
      config: first.config,
      params: first.params!,
      seeds: sorted.map((r) => r.seed),
      trialIds: sorted.map((r) => r.id),
      validPpl: interval(sorted.map((r) => r.validPpl!)),
      testPpl: interval(sorted.map((r) => r.testPpl!)),
      paretoRank: 0,
      compression: null,
      isBaseline: baselineKeys.get(first.sweepId) === first.configKey,
    };
  });
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
