import { describe, expect, it } from 'vitest';
import { FORBIDDEN_PATH_SEGMENTS, getOwnPath, pathIssue, pathSegments, setOwnPath } from './paths.ts';

describe('dotted paths', () => {
  it('refuses prototype segments, empty segments and empty paths, naming the segment', () => {
    for (const seg of FORBIDDEN_PATH_SEGMENTS) {
      for (const path of [seg, `model.${seg}`, `model.${seg}.x`, `${seg}.polluted`]) {
        expect(pathIssue(path)).toMatch(new RegExp(`"${seg}" is not a parameter name`));
        expect(() => pathSegments(path)).toThrow(/bad parameter path/);
      }
    }
    expect(pathIssue('')).toMatch(/not empty/);
    expect(pathIssue('model..hidden')).toMatch(/empty segment/);
    expect(pathIssue('x'.repeat(201))).toMatch(/at most 200/);
    expect(pathIssue('model.hidden')).toBeNull();
    expect(pathIssue('compress.finetune.maxSteps')).toBeNull();
    expect(pathSegments('model.phm.n')).toEqual(['model', 'phm', 'n']);
  });

  it('reads own properties of plain objects only', () => {
    const obj = { model: { hidden: 8, layers: ['gates'] } };
    expect(getOwnPath(obj, ['model', 'hidden'])).toEqual({ found: true, value: 8 });
    expect(getOwnPath(obj, ['model', 'layers'])).toEqual({ found: true, value: ['gates'] });
    // inherited members (what `in` would follow) are not fields
    for (const parts of [['toString'], ['model', 'hasOwnProperty'], ['model', 'layers', 'includes'], ['model', 'layers', '0'], ['model', '__proto__']]) {
      expect(getOwnPath(obj, parts).found).toBe(false);
    }
  });

  it('writes own properties, never through a prototype', () => {
    const obj: Record<string, unknown> = { model: { hidden: 8 } };
    setOwnPath(obj, ['model', 'phm', 'n'], 2);
    setOwnPath(obj, ['model', 'hidden'], 16);
    expect(obj).toEqual({ model: { hidden: 16, phm: { n: 2 } } });
    // a segment that is inherited (not own) is created as an own field, not followed
    const inherits = Object.create({ shared: { x: 1 } }) as Record<string, unknown>;
    setOwnPath(inherits, ['shared', 'x'], 2);
    expect(Object.getPrototypeOf(inherits).shared).toEqual({ x: 1 });
    expect(inherits['shared']).toEqual({ x: 2 });
    for (const parts of [['__proto__', 'polluted'], ['model', 'constructor', 'prototype', 'polluted'], ['prototype']]) {
      expect(() => setOwnPath(obj, parts, 'p')).toThrow(/bad parameter path/);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
