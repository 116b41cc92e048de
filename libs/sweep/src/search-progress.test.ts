import { describe, expect, it } from 'vitest';
import { hypervolume2d, referencePoint } from '@lmsweep/search';
import type { SearchState } from '@lmsweep/protocol';
import { parseSweepSpec } from './expand.ts';
import { searchProgress, type TimedTrialState } from './search-progress.ts';

const spec = parseSweepSpec({
  name: 'p',
  dataset: { name: 'ptb', vocabSize: 300 },
  search: { sampler: 'motpe', trials: 5, parallel: 2, objectives: ['params', 'validPpl'] },
  space: { 'model.hidden': { int: [8, 64], step: 8 } },
  seeds: 2,
});

const search: SearchState = {
  points: ['a', 'b', 'c', 'd'].map((key, i) => ({ key, point: { 'model.hidden': 8 * (i + 1) } })),
  finished: [],
  seen: 0,
  draws: 7,
  rejected: 3,
  reasons: [{ path: 'configKey', count: 3, example: 'configuration a was chosen before' }],
};

const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 0, 0, s));
const t = (ordinal: number, key: string, seed: number, status: TimedTrialState['status'], params: number | null, ppl: number | null, end: number | null): TimedTrialState => ({ ordinal, configKey: key, seed, status, params, validPpl: ppl, flagged: false, finishedAt: end === null ? null : at(end) });

describe('searchProgress', () => {
  it('orders finished configurations by when their seeds ended; best and hypervolume never get worse; the last hypervolume is the front\'s', () => {
    const trials = [
      t(0, 'a', 0, 'succeeded', 1000, 200, 5),
      t(1, 'a', 1, 'succeeded', 1000, 202, 30), // a finishes at 30
      t(2, 'b', 0, 'succeeded', 2000, 150, 10),
      t(3, 'b', 1, 'succeeded', 2000, 152, 20), // b at 20: first
      t(4, 'c', 0, 'failed', null, null, 25),
      t(5, 'c', 1, 'failed', null, null, 40), // c at 40, no value
      t(6, 'd', 0, 'succeeded', 4000, 160, 35),
      t(7, 'd', 1, 'running', null, null, null), // d is in flight
    ];
    const p = searchProgress(spec, trials, search)!;
    expect(p).toMatchObject({ sampler: 'motpe', budget: 5, chosen: 4, finished: 3, inFlight: 1, parallel: 2, rejected: 3, exhausted: null });
    expect(p.trace.map((x) => [x.configKey, x.validPpl, x.best])).toEqual([
      ['b', 151, 151],
      ['a', 201, 151],
      ['c', null, 151],
    ]);
    expect(p.best).toEqual({ configKey: 'b', point: { 'model.hidden': 16 }, validPpl: 151, params: 2000, seeds: 2 });
    const pairs = [[2000, 151], [1000, 201]] as const;
    expect(p.reference).toEqual(referencePoint(pairs));
    expect(p.trace[0]!.hypervolume).toBeCloseTo(hypervolume2d([pairs[0]], p.reference!), 9);
    expect(p.trace[2]!.hypervolume).toBeCloseTo(hypervolume2d(pairs, p.reference!), 9);
    expect(p.trace[1]!.hypervolume!).toBeGreaterThan(p.trace[0]!.hypervolume!);
  });

  it('a grid sweep has no search; a search with nothing finished has an empty trace', () => {
    expect(searchProgress(parseSweepSpec({ name: 'g', grid: { 'model.hidden': [8] } }), [], null)).toBeNull();
    const p = searchProgress(spec, [t(0, 'a', 0, 'queued', null, null, null)], search)!;
    expect(p).toMatchObject({ finished: 0, trace: [], best: null, reference: null, inFlight: 1 });
  });
});
