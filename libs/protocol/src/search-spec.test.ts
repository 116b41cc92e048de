import { describe, expect, it } from 'vitest';
import { conditionIssues, SearchOptions, SearchSpace, takesValue } from './search-spec.ts';

describe('search spec', () => {
  it('keeps a space as written (a parsed spec is stored and parsed again)', () => {
    const space = { a: ['x', 'y'], b: { int: [1, 9], step: 2, when: { a: 'x' } }, c: { log_uniform: [0.1, 1] }, d: { values: [true, false], when: { a: ['x', 'y'], b: [3, 5] } } };
    expect(SearchSpace.parse(space)).toEqual(space);
    expect(SearchSpace.parse(SearchSpace.parse(space))).toEqual(space);
    expect(SearchOptions.parse(SearchOptions.parse({ trials: 3 }))).toEqual({ sampler: 'tpe', trials: 3, parallel: 4, seed: 0, objectives: ['validPpl'] });
  });

  it('knows the values a parameter takes', () => {
    expect(takesValue({ int: [2, 10], step: 4 }, 6)).toBe(true);
    expect(takesValue({ int: [2, 10], step: 4 }, 8)).toBe(false);
    expect(takesValue({ int: [2, 10], step: 4 }, 6.5)).toBe(false);
    expect(takesValue({ uniform: [0, 1] }, 1)).toBe(true);
    expect(takesValue({ log_uniform: [0.1, 1] }, 0.01)).toBe(false);
    expect(takesValue(['a', 1], '1')).toBe(false);
    expect(takesValue({ values: [false] }, false)).toBe(true);
  });

  it('finds conditions that loop through a chain, once per cycle', () => {
    const issues = conditionIssues({
      a: { values: [1, 2], when: { c: 1 } },
      b: { values: [1, 2], when: { a: 1 } },
      c: { values: [1, 2], when: { b: 2 } },
      d: { values: [1], when: { a: 2 } },
    });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/cycle: (a|b|c) → (a|b|c) → (a|b|c) → \1/);
    expect(conditionIssues({ a: [1, 2], b: { values: [1], when: { a: 2 } }, c: { uniform: [0, 1], when: { b: 1, a: [1, 2] } } })).toEqual([]);
  });
});
