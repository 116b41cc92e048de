// TPE's split of finished trials into the good ones (l(x)) and the rest (g(x)): the best by value
// for one objective; for two, whole Pareto ranks from the front down, the last rank that does
// not fit whole cut to the points that add the most hypervolume (MOTPE's split).
import { paretoRanks } from '@lmsweep/algorithms';
import { greedyHypervolumeSubset, type Pair } from './hypervolume.ts';

/** Sorts NaN after every number (a diverged value is the worst). */
const byValue = (a: number, b: number) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a - b);

/** Indices of the nBelow best of one objective (ties: the earlier trial), and the rest; each in trial order. */
export function splitSingle(values: readonly number[], nBelow: number): { below: number[]; above: number[] } {
  const order = values.map((_, i) => i).sort((a, b) => byValue(values[a]!, values[b]!) || a - b);
  const below = order.slice(0, nBelow).sort((a, b) => a - b);
  const above = order.slice(nBelow).sort((a, b) => a - b);
  return { below, above };
}

/**
 * The reference point for a set's hypervolume: past its worst in each objective by a tenth of
 * its spread (or of the worst's magnitude, or 1, where the spread is 0).
 */
export function referencePoint(points: readonly Pair[]): Pair {
  const worst = [-Infinity, -Infinity];
  const best = [Infinity, Infinity];
  for (const p of points) {
    for (let j = 0; j < 2; j++) {
      worst[j] = Math.max(worst[j]!, p[j]!);
      best[j] = Math.min(best[j]!, p[j]!);
    }
  }
  const pad = (j: number) => {
    const spread = worst[j]! - best[j]!;
    return 0.1 * (spread > 0 ? spread : Math.abs(worst[j]!) > 0 ? Math.abs(worst[j]!) : 1);
  };
  return [worst[0]! + pad(0), worst[1]! + pad(1)];
}

/** The nBelow best of two objectives by Pareto rank, the last rank cut by greedy hypervolume; and the rest. Each in trial order. */
export function splitPareto(values: readonly Pair[], nBelow: number): { below: number[]; above: number[] } {
  const finite = values.map(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const ranks = paretoRanks(values.map(([x, y], i) => (finite[i] ? { x, y } : { x: NaN, y: NaN })));
  const byRank = new Map<number, number[]>();
  values.forEach((_, i) => {
    const r = finite[i] ? ranks[i]! : Infinity;
    if (!byRank.has(r)) byRank.set(r, []);
    byRank.get(r)!.push(i);
  });
  const below: number[] = [];
  for (const r of [...byRank.keys()].sort((a, b) => a - b)) {
    const members = byRank.get(r)!;
    const room = nBelow - below.length;
    if (room <= 0) break;
    if (members.length <= room) below.push(...members);
    else if (r === Infinity) below.push(...members.slice(0, room));
    else {
      const pts = members.map((i) => values[i]!);
      below.push(...greedyHypervolumeSubset(pts, room, referencePoint(pts)).map((j) => members[j]!));
    }
  }
  const inBelow = new Set(below);
  return { below: below.sort((a, b) => a - b), above: values.map((_, i) => i).filter((i) => !inBelow.has(i)) };
}
