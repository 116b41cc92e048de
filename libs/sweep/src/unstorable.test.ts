// A spec is stored (its text, the parsed spec, every trial config): strings the database cannot
// hold are refused when it is parsed, naming the field, not by a failing INSERT.
import { describe, expect, it } from 'vitest';
import { SpecError } from '@lmsweep/protocol';
import { parseSweepSpec } from './expand.ts';

function issuesOf(input: unknown) {
  try {
    parseSweepSpec(input);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).issues;
  }
  throw new Error('spec was accepted');
}

describe('unstorable strings in a spec', () => {
  it('are refused naming the field: a NUL or an unpaired surrogate in a value or a key, in YAML, JSON or an object', () => {
    expect(issuesOf({ name: 'a\u0000', dataset: 'ptb' })).toEqual([{ path: 'name', message: expect.stringMatching(/NUL/) }]);
    expect(issuesOf('name: "a\\0"\n')).toEqual([{ path: 'name', message: expect.stringMatching(/NUL/) }]);
    expect(issuesOf('{"name": "x", "description": "\\ud800"}')).toEqual([{ path: 'description', message: expect.stringMatching(/surrogate/) }]);
    expect(issuesOf({ name: 'x', grid: { method: ['dense', 'phm\u0000'] } })).toEqual([{ path: 'grid.method.1', message: expect.any(String) }]);
    expect(issuesOf({ name: 'x', grid: { 'model.hidden\u0000': [1] } })).toEqual([{ path: 'grid.model.hidden\u0000', message: expect.stringMatching(/^invalid key/) }]);
    expect(issuesOf('name: x\u0000\n')).toEqual([{ path: '', message: expect.stringMatching(/^the spec text/) }]);
    expect(parseSweepSpec('name: "😀 fine"').name).toBe('😀 fine');
  });
});
