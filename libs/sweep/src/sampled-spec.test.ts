import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec } from './expand.ts';
import { prepareSweep, validateSpec } from './prepare.ts';

function issuesOf(input: unknown) {
  try {
    parseSweepSpec(input);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).issues;
  }
  throw new Error('spec was accepted');
}

const base = { name: 's', dataset: { name: 'ptb', vocabSize: 300 }, search: { trials: 20 } };

describe('sampled specs (search: and space:)', () => {
  it('examples/search.yaml parses, validates and launches with its first `parallel` configurations', () => {
    const text = readFileSync(path.join(import.meta.dirname, '../../../examples/search.yaml'), 'utf8');
    const spec = parseSweepSpec(text);
    expect(spec.search).toEqual({ sampler: 'tpe', trials: 30, parallel: 4, seed: 7, objectives: ['validPpl'] });
    expect(Object.keys(spec.space!)).toEqual(['method', 'compress.rate', 'model.phm.n', 'model.hidden', 'training.lr']);
    // Parsed specs are stored and parsed again: the parsed form parses to itself.
    expect(parseSweepSpec(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    const launched = prepareSweep(text);
    expect(launched.search!.points).toHaveLength(4);
    expect(validateSpec(text)).toEqual({ ok: true, issues: [], trials: launched.plans.length, search: { sampler: 'tpe', configurations: 30, parallel: 4 } });
  });

  it('grid specs parse as before', () => {
    const spec = parseSweepSpec({ name: 'g', grid: { 'model.hidden': [16, 32] } });
    expect(spec.search).toBeUndefined();
    expect(expandSweep(spec)).toHaveLength(2);
  });

  it('names the bad field of the space and the search', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ 'model.hiden': { int: [1, 4] } }, 'space.model.hiden', /unknown parameter/],
      [{ model: [1, 2] }, 'space.model', /is a section/],
      [{ 'model.hidden': { uniform: [16, 64] } }, 'space.model.hidden', /takes integers.*int:/],
      [{ 'training.lr': { uniform: [-1, 1] } }, 'space.training.lr', /value -1/],
      [{ method: ['dense', 'magic'] }, 'space.method', /magic/],
      [{ 'training.lr': { uniform: [0.1, 0.01] } }, 'space.training.lr.uniform', /low < high/],
      [{ 'training.lr': { log_uniform: [0, 0.1] } }, 'space.training.lr.log_uniform', /positive/],
      [{ 'model.hidden': { int: [32, 256], step: 48 } }, 'space.model.hidden.step', /does not divide/],
      [{ 'model.hidden': { int: [0, 256], log: true } }, 'space.model.hidden.int', /1 or more/],
      [{ 'model.hidden': { int: [16.5, 256] } }, 'space.model.hidden.int.0', /integer/],
      [{ 'model.hidden': { int: [16, 256], lg: true } }, 'space.model.hidden', /unknown field "lg"/],
      [{ 'model.hidden': { values: [16, 16] } }, 'space.model.hidden.values', /at most once/],
      [{ 'model.phm.n': { values: [2, 4], when: { method: 'phm' } } }, 'space.model.phm.n.when.method', /not a parameter of the space/],
      [{ method: ['dense', 'phm'], 'model.phm.n': { values: [2, 4], when: { method: 'svd' } } }, 'space.model.phm.n.when.method', /"svd" is a value "method" never takes/],
      [{ 'training.lr': { uniform: [0.1, 1] }, 'model.hidden': { int: [8, 16], when: { 'training.lr': 0.5 } } }, 'space.model.hidden.when.training.lr', /continuous/],
      [{ 'model.hidden': { values: [8, 16], when: { 'model.embedding': 8 } }, 'model.embedding': { values: [8, 16], when: { 'model.hidden': 16 } } }, 'space.model.embedding.when.model.hidden', /cycle: model.embedding → model.hidden → model.embedding|cycle/],
      [{ 'model.hidden': { values: [8, 16], when: { 'model.hidden': 8 } } }, 'space.model.hidden.when.model.hidden', /itself/],
      [{}, 'space', /at least one parameter/],
    ];
    for (const [space, where, message] of cases) {
      const issues = issuesOf({ ...base, space });
      expect(issues, JSON.stringify(space)).toContainEqual({ path: where, message: expect.stringMatching(message) });
    }
    expect(issuesOf({ ...base, search: { trials: 0 }, space: { method: ['dense'] } })[0]!.path).toBe('search.trials');
    expect(issuesOf({ ...base, search: { trials: 5, sampler: 'grid' }, space: { method: ['dense'] } })[0]!.path).toBe('search.sampler');
    expect(issuesOf({ ...base, search: { trials: 5, objectives: ['params'] }, space: { method: ['dense'] } })[0]!.path).toBe('search.objectives');
    expect(issuesOf({ ...base, search: { trials: 5, sampler: 'tpe', objectives: ['params', 'validPpl'] }, space: { method: ['dense'] } })[0]).toMatchObject({ path: 'search.sampler', message: expect.stringContaining('motpe') });
    expect(issuesOf({ ...base, search: { trials: 5, parallel: 0 }, space: { method: ['dense'] } })[0]!.path).toBe('search.parallel');
    expect(issuesOf({ ...base, search: { trials: 5, budget: 1 }, space: { method: ['dense'] } })[0]).toMatchObject({ path: 'search', message: expect.stringContaining('budget') });
  });

  it('defaults the sampler by the objectives', () => {
    expect(parseSweepSpec({ ...base, space: { method: ['dense'] } }).search).toEqual({ sampler: 'tpe', trials: 20, parallel: 4, seed: 0, objectives: ['validPpl'] });
    expect(parseSweepSpec({ ...base, search: { trials: 5, objectives: ['params', 'validPpl'] }, space: { method: ['dense'] } }).search!.sampler).toBe('motpe');
  });

  it('search and grid are exclusive; each half needs the other', () => {
    expect(issuesOf({ ...base, grid: { 'model.hidden': [8] }, space: { method: ['dense'] } })).toContainEqual({ path: 'grid', message: expect.stringContaining('exclusive') });
    expect(issuesOf({ name: 's', space: { method: ['dense'] } })).toContainEqual({ path: 'search', message: expect.any(String) });
    expect(issuesOf({ name: 's', search: { trials: 3 } })).toContainEqual({ path: 'space', message: expect.any(String) });
  });

  it('refuses prototype segments in the space, its conditions and paths', () => {
    const raw = JSON.parse('{"name":"s","search":{"trials":3},"space":{"__proto__":{"int":[1,2]},"method":["dense"]}}');
    expect(issuesOf(raw)).toContainEqual({ path: 'space.__proto__', message: expect.stringContaining('not a parameter name') });
    const cond = JSON.parse('{"name":"s","search":{"trials":3},"space":{"method":["dense"],"model.hidden":{"int":[8,16],"when":{"__proto__":"x","method":"dense"}}}}');
    expect(issuesOf(cond)).toContainEqual({ path: 'space.model.hidden.when.__proto__', message: expect.stringContaining('not a parameter name') });
    expect(issuesOf({ ...base, space: { 'model.constructor.x': [1] } })[0]).toMatchObject({ path: 'space.model.constructor.x', message: expect.stringContaining('not a parameter name') });
    expect(issuesOf({ ...base, space: { 'model..hidden': [1] } })[0]).toMatchObject({ path: 'space.model..hidden', message: expect.stringContaining('empty segment') });
    expect(({} as Record<string, unknown>)['int']).toBeUndefined();
  });

  it('bounds the sweep size by trials × seeds (× baselines), and checks baseline and control against the space', () => {
    expect(issuesOf({ ...base, search: { trials: 5000 }, seeds: 3, space: { method: ['dense'] } })[0]).toMatchObject({ path: 'search.trials', message: expect.stringContaining('15000') });
    expect(issuesOf({ ...base, search: { trials: 3000 }, seeds: 2, space: { method: ['dense', 'svd'] } })[0]).toMatchObject({ path: 'search.trials', message: expect.stringContaining('12000') });
    expect(() => parseSweepSpec({ ...base, search: { trials: 3000 }, seeds: 3, space: { method: ['dense'] } })).not.toThrow();
    expect(issuesOf({ ...base, space: { method: ['dense', 'phm'] }, baseline: { method: 'svd' } })).toContainEqual({ path: 'baseline.method', message: expect.stringContaining('not one the space gives') });
    expect(issuesOf({ ...base, space: { method: ['dense'] }, baseline: { 'model.hidden': 8 } })).toContainEqual({ path: 'baseline.model.hidden', message: expect.stringContaining('not a parameter of the space') });
    expect(issuesOf({ ...base, space: { method: ['dense', 'phm'] }, compress: { control: true } })).toContainEqual({ path: 'compress.control', message: expect.stringContaining('space.method') });
    expect(() => parseSweepSpec({ ...base, space: { method: ['dense', 'svd'] }, compress: { control: true }, baseline: { method: 'dense' } })).not.toThrow();
  });
});
