// Explicit extensions of a sweep: more grid values, more seeds, planned against stored trials,
// the spec (and its text) updated to read as what was run.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SpecError, type TrialPlan } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec } from './expand.ts';
import { extendSweep } from './extend.ts';
import { prepareSweep } from './prepare.ts';

const TEXT = `# a comment that stays
name: ext
dataset: { name: ptb, vocabSize: 300 }
model: { embedding: 8, hidden: 8, layers: 1 }
grid:
  model.hidden: [8, 16]   # sizes
seeds: 2
`;
const stored = (plans: TrialPlan[]) => plans.map(({ ordinal, configKey, seed }) => ({ ordinal, configKey, seed }));
const slots = (plans: Pick<TrialPlan, 'configKey' | 'seed'>[]) => new Set(plans.map((p) => `${p.configKey}/${p.seed}`));

function issuesOf(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (e) {
    if (e instanceof SpecError) return e.issues;
    throw e;
  }
  throw new Error('expected a SpecError');
}

describe('extendSweep', () => {
  const spec = parseSweepSpec(TEXT);
  const launched = expandSweep(spec);

  it('grid: the new values\' points are planned after the stored trials, the spec and its text read as the grown grid', () => {
    const x = extendSweep(spec, TEXT, stored(launched), { grid: { 'model.hidden': [24, 32] } });
    expect(x.plans.map((p) => [p.ordinal, p.config.model.hidden, p.seed])).toEqual([
      [4, 24, 0],
      [5, 24, 1],
      [6, 32, 0],
      [7, 32, 1],
    ]);
    expect(x.spec.grid).toEqual({ 'model.hidden': [8, 16, 24, 32] });
    expect(x.summary).toBe('4 trials: model.hidden += 24, 32');
    expect(x.specText).toContain('# a comment that stays');
    expect(x.specText).toContain('# sizes');
    expect(parseSweepSpec(x.specText)).toEqual(x.spec);
    // What was run is what the grown spec expands to.
    expect(slots([...launched, ...x.plans])).toEqual(slots(expandSweep(x.spec)));
  });

  it('grid: a parameter the grid did not vary keeps the spec\'s value beside the new ones, so the stored configurations stay what they are', () => {
    const x = extendSweep(spec, TEXT, stored(launched), { grid: { 'training.lr': [0.5] } });
    expect(x.spec.grid).toEqual({ 'model.hidden': [8, 16], 'training.lr': [1, 0.5] });
    expect(x.plans.map((p) => [p.config.model.hidden, p.config.training.lr, p.seed])).toEqual([
      [8, 0.5, 0],
      [8, 0.5, 1],
      [16, 0.5, 0],
      [16, 0.5, 1],
    ]);
    expect(slots([...launched, ...x.plans])).toEqual(slots(expandSweep(x.spec)));
  });

  it('seeds: K more for every configuration after its highest seed, the seeds field grown; with configs, those alone and the field kept', () => {
    const x = extendSweep(spec, TEXT, stored(launched), { seeds: 2 });
    expect(x.plans.map((p) => [p.ordinal, p.config.model.hidden, p.seed])).toEqual([
      [4, 8, 2],
      [5, 8, 3],
      [6, 16, 2],
      [7, 16, 3],
    ]);
    expect(x.spec.seeds).toBe(4);
    expect(parse(x.specText).seeds).toBe(4);
    expect(x.summary).toBe('4 trials: 2 more seeds for every configuration (2)');
    const one = extendSweep(spec, TEXT, stored(launched), { seeds: 1, configs: [launched[2]!.configKey] });
    expect(one.plans.map((p) => [p.ordinal, p.configKey, p.seed])).toEqual([[4, launched[2]!.configKey, 2]]);
    expect([one.spec.seeds, one.specText]).toEqual([2, TEXT]);
    // grid and seeds at once: the new points get the spec's seeds, then every configuration (the new ones too) the extra ones
    const both = extendSweep(spec, TEXT, stored(launched), { grid: { 'model.hidden': [24] }, seeds: 1 });
    expect(both.plans.map((p) => [p.config.model.hidden, p.seed])).toEqual([[24, 0], [24, 1], [8, 2], [16, 2], [24, 2]]);
    expect(slots([...launched, ...both.plans])).toEqual(slots(expandSweep(both.spec)));
    // a list of seeds gets the next ones; seeds until the interval is tight raise min
    const listed = parseSweepSpec({ ...spec, seeds: [3, 7] });
    expect(extendSweep(listed, TEXT, stored(expandSweep(listed)), { seeds: 2 }).spec.seeds).toEqual([3, 7, 8, 9]);
    const tight = parseSweepSpec({ ...spec, seeds: { min: 2, max: 3, ciHalfWidth: 1 } });
    expect(extendSweep(tight, TEXT, stored(expandSweep(tight)), { seeds: 2 }).spec.seeds).toEqual({ min: 4, max: 4, ciHalfWidth: 1 });
  });

  it('a compression method added to the grid starts from the stored baselines', () => {
    const cspec = parseSweepSpec({ ...spec, grid: { method: ['svd'] }, compress: { rate: 3.9, finetune: { maxSteps: 2 } } });
    const cl = expandSweep(cspec);
    expect(cl.map((p) => [p.ordinal, p.method, p.parentOrdinal])).toEqual([[0, 'dense', undefined], [1, 'svd', 0], [2, 'dense', undefined], [3, 'svd', 2]]);
    const x = extendSweep(cspec, JSON.stringify(cspec), stored(cl), { grid: { method: ['weighted-svd'] } });
    expect(x.plans.map((p) => [p.ordinal, p.method, p.seed, p.parentOrdinal])).toEqual([[4, 'weighted-svd', 0, 0], [5, 'weighted-svd', 1, 2]]);
    // a JSON spec text stays readable as the spec
    expect(parseSweepSpec(x.specText)).toEqual(x.spec);
  });

  it('refuses what it cannot do, naming the field', () => {
    const s = stored(launched);
    expect(issuesOf(() => extendSweep(spec, TEXT, s, { trials: 5 }))).toEqual([{ path: 'trials', message: expect.stringContaining('this sweep is a grid') }]);
    expect(issuesOf(() => extendSweep(spec, TEXT, s, {}))).toEqual([{ path: '', message: expect.stringContaining('nothing to add') }]);
    expect(issuesOf(() => extendSweep(spec, TEXT, s, { configs: ['abc'] }))).toEqual([{ path: 'configs', message: expect.stringContaining('give seeds too') }]);
    expect(issuesOf(() => extendSweep(spec, TEXT, s, { seeds: 1, configs: ['nope'] }))).toEqual([{ path: 'configs', message: expect.stringMatching(/^"nope" is not a configuration of this sweep's grid/) }]);
    expect(issuesOf(() => extendSweep(spec, TEXT, s, { grid: { 'model.hidden': [16] } }))).toEqual([{ path: 'grid.model.hidden', message: '16 is already in the grid (8, 16)' }]);
    expect(issuesOf(() => extendSweep(spec, TEXT, s, { grid: { 'model.hidden': [24, 24] } }))).toEqual([{ path: 'grid.model.hidden', message: '24 is already in the grid (8, 16)' }]);
    expect(issuesOf(() => extendSweep(spec, TEXT, s, { grid: { 'model.bogus': [1] } }))[0]).toMatchObject({ path: 'grid.model.bogus', message: expect.stringContaining('not a grid parameter of this sweep') });
    expect(issuesOf(() => extendSweep(spec, TEXT, s, { grid: { 'model.hidden': [-4] } }))[0]).toMatchObject({ path: 'grid.model.hidden' });
    expect(issuesOf(() => extendSweep(spec, TEXT, s, { grid: { 'model.constructor': [1] } }))[0]).toMatchObject({ path: 'grid.model.constructor', message: expect.stringContaining('is not a parameter name') });
    expect(issuesOf(() => extendSweep(spec, TEXT, s, { grid: { method: ['phm'] }, seeds: 1, configs: ['\u0000'] }))).toEqual([{ path: 'configs.0', message: expect.stringContaining('NUL') }]);
    const wide = { 'model.hidden': Array.from({ length: 998 }, (_, i) => 17 + i), 'training.lr': [0.5, 0.25, 0.125, 0.1, 0.05] };
    expect(issuesOf(() => extendSweep(spec, TEXT, s, { grid: wide }))).toEqual([{ path: 'grid', message: 'the sweep would create 12000 trials; at most 10000 are allowed' }]);
    const big = parseSweepSpec({ ...spec, grid: { 'training.lr': Array.from({ length: 1000 }, (_, i) => (i + 1) / 1000) }, seeds: 5 });
    expect(issuesOf(() => extendSweep(big, '', stored(expandSweep(big)), { seeds: 6 }))).toEqual([{ path: 'seeds', message: 'the sweep would hold 11000 trials (6000 more); at most 10000 are allowed' }]);
  });

  it('a sampled sweep: more configurations raise its budget (no plans: its growth step samples them), its chosen configurations get the seeds, and the bound holds', () => {
    const text = `name: s\ndataset: { name: ptb, vocabSize: 300 }\nsearch: { sampler: random, trials: 3, parallel: 3 } # budget\nspace: { model.hidden: { int: [8, 64], step: 8 } }\nseeds: 2\n`;
    const sspec = parseSweepSpec(text);
    const first = prepareSweep(sspec);
    const x = extendSweep(sspec, text, stored(first.plans), { trials: 4 }, first.search);
    expect([x.plans, x.spec.search!.trials, x.summary]).toEqual([[], 7, '4 more configurations for the search (7 in all; sampled as slots free, 3 at once)']);
    expect(x.specText).toContain('trials: 7');
    expect(x.specText).toContain('# budget');
    const more = extendSweep(sspec, text, stored(first.plans), { seeds: 1 }, first.search);
    expect(more.plans.map((p) => [p.configKey, p.seed])).toEqual(first.search!.points.map((p) => [p.key, 2]));
    expect(more.spec.seeds).toBe(3);
    expect(issuesOf(() => extendSweep(sspec, text, stored(first.plans), { grid: { 'model.hidden': [72] } }, first.search))).toEqual([{ path: 'grid', message: expect.stringContaining('sampled search') }]);
    const big = parseSweepSpec({ ...parse(text), search: { sampler: 'random', trials: 5000, parallel: 3 } });
    expect(issuesOf(() => extendSweep(big, text, stored(first.plans), { seeds: 1 }, first.search))).toEqual([{ path: 'seeds', message: expect.stringContaining('could create up to 15000 trials') }]);
    expect(issuesOf(() => extendSweep(big, text, stored(first.plans), { trials: 1 }, first.search))).toEqual([{ path: 'trials', message: expect.stringContaining('could create up to 10002 trials') }]);
  });
});

