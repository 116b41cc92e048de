import { describe, expect, it } from 'vitest';
import { groupRows, leaderboardPage, rankConfigurations as rankGroups, type LeaderboardRow } from './leaderboard.ts';

const rankConfigurations = (rows: LeaderboardRow[], ...rest: Parameters<typeof rankGroups> extends [unknown, ...infer R] ? R : never) => rankGroups(groupRows(rows), ...rest);

let n = 0;
const row = (configKey: string, params: number, validPpl: number, seed: number, sweepId = 's1'): LeaderboardRow => ({
  id: `t${++n}`,
  sweepId,
  configKey,
  config: { key: configKey },
  method: 'dense',
  seed,
  params,
  validPpl,
  testPpl: validPpl * 1.1,
});

describe('rankConfigurations', () => {
  it('aggregates seeds with a Student-t interval and ranks Pareto fronts first', () => {
    const rows = [
      row('big', 1000, 100, 0), row('big', 1000, 102, 1), row('big', 1000, 104, 2),
      row('small', 100, 150, 0), row('small', 100, 160, 1),
      row('dominated', 1000, 200, 0), // worse than big at the same size
      row('mid', 500, 120, 0),
    ];
    const out = rankConfigurations(rows, new Map([['s1', 'big']]));
    expect(out.map((e) => e.configKey)).toEqual(['big', 'mid', 'small', 'dominated']);
    expect(out.map((e) => e.paretoRank)).toEqual([0, 0, 0, 1]);
    const big = out[0]!;
    expect(big.seeds).toEqual([0, 1, 2]);
    expect(big.validPpl.mean).toBeCloseTo(102, 12);
    // s = 2, t(0.975, 2) = 4.302652730 ⇒ half width = 4.302652730 · 2 / √3
    expect(big.validPpl.halfWidth).toBeCloseTo((4.30265273 * 2) / Math.sqrt(3), 6);
    expect(big.isBaseline).toBe(true);
    expect(big.compression).toBe(1);
    expect(out.find((e) => e.configKey === 'small')!.compression).toBe(10);
    expect(out.find((e) => e.configKey === 'mid')!.validPpl.halfWidth).toBeNull(); // one seed: no interval
  });

  it('marks intervals that miss the sweep\'s target (seeds.ciHalfWidth) as wide; without a target, only a lone seed', () => {
    // half-widths: 'tight' t(0.975,1)·0.1/√2·√2… ≈ 0.64, 'wide' ≈ 63.5, 'lone' none
    const rows = [row('tight', 100, 100, 0), row('tight', 100, 100.1, 1), row('wide', 200, 90, 0), row('wide', 200, 100, 1), row('lone', 300, 80, 0)];
    const withTarget = rankConfigurations(rows, new Map(), 'params', new Map([['s1', 1.5]]));
    expect(withTarget.map((e) => [e.configKey, e.ciTarget, e.ciTight])).toEqual([['tight', 1.5, true], ['wide', 1.5, false], ['lone', 1.5, false]]);
    expect(withTarget[0]!.validPpl.halfWidth).toBeCloseTo((12.706204736 * Math.sqrt(0.005)) / Math.SQRT2, 6);
    const without = rankConfigurations(rows, new Map(), 'params');
    expect(without.map((e) => [e.ciTarget, e.ciTight])).toEqual([[null, true], [null, true], [null, false]]);
    expect(leaderboardPage(withTarget, 0, 1).plot.ciTight).toEqual([true, false, false]);
  });

  it('keeps sweeps apart, skips unfinished rows, sorts on request', () => {
    // A row without a perplexity (not reachable through the store, which returns finished trials) is skipped.
    const rows = [row('a', 10, 50, 0, 's1'), row('a', 10, 70, 0, 's2'), { ...row('b', 5, 1, 0), validPpl: null as unknown as number }];
    const out = rankConfigurations(rows, new Map(), 'validPpl');
    expect(out).toHaveLength(2);
    expect(out.map((e) => e.sweepId)).toEqual(['s1', 's2']);
    expect(out.every((e) => e.compression === null)).toBe(true);
    expect(rankConfigurations([row('x', 5, 9, 0), row('y', 1, 99, 0)], new Map(), 'params').map((e) => e.configKey)).toEqual(['y', 'x']);
  });
});

describe('leaderboardPage', () => {
  it('slices the ranking and keeps every configuration in the plot columns, in ranking order', () => {
    const rows = Array.from({ length: 25 }, (_, i) => row(`c${i}`, 100 + (i % 5) * 10, 200 - i, 0, 's2'));
    const all = rankConfigurations(rows, new Map([['s2', 'c0']]));
    const page = leaderboardPage(all, 10, 10);
    expect(page.total).toBe(25);
    expect(page.entries.map((e) => e.configKey)).toEqual(all.slice(10, 20).map((e) => e.configKey));
    expect(leaderboardPage(all, 20, 10).entries).toHaveLength(5);
    expect(leaderboardPage(all, 30, 10).entries).toEqual([]);
    const c = page.plot;
    expect(c.methods).toEqual(['dense']);
    expect(c.params).toEqual(all.map((e) => e.params));
    expect(c.mean).toEqual(all.map((e) => e.validPpl.mean));
    expect(c.paretoRank).toEqual(all.map((e) => e.paretoRank));
    expect(c.isBaseline.filter(Boolean)).toHaveLength(1);
    // one seed each: no interval, as null (JSON has no NaN)
    expect(c.halfWidth.every((h) => h === null)).toBe(true);
    expect(JSON.parse(JSON.stringify(page.plot))).toEqual(page.plot);
  });
});
