import { describe, expect, it } from 'vitest';
import { parameterImportance, type ImportanceColumn } from './importance.ts';
import { Rng } from './rng.ts';

/** n rows of three numeric parameters and one categorical, drawn uniformly. */
function rows(n: number, seed = 1) {
  const rng = new Rng(seed);
  const a = Array.from({ length: n }, () => rng.next());
  const b = Array.from({ length: n }, () => rng.next());
  const c = Array.from({ length: n }, () => rng.next());
  const m = Array.from({ length: n }, () => ['svd', 'groupreduce', 'phm'][rng.int(3)]!);
  const noise = Array.from({ length: n }, () => 0.05 * rng.normal());
  return { a, b, c, m, noise };
}
const columns = (r: ReturnType<typeof rows>): ImportanceColumn[] => [
  { name: 'a', kind: 'numeric', values: r.a },
  { name: 'b', kind: 'numeric', values: r.b },
  { name: 'c', kind: 'numeric', values: r.c },
  { name: 'method', kind: 'categorical', values: r.m },
];
const byName = (imp: { name: string; importance: number }[]) => Object.fromEntries(imp.map((x) => [x.name, x.importance]));

describe('parameterImportance (random forest, mean decrease in impurity)', () => {
  it('ranks parameters by how much of the objective they explain; one that plays no part gets next to nothing; shares sum to 1', () => {
    const r = rows(300);
    // Variance explained: a 4²/12 ≈ 1.33, method ≈ 0.5 (means 0, 1, 2 → var 2/3 · 0.75²…), b 1/12 ≈ 0.08, c none.
    const shift = { svd: 0, groupreduce: 1, phm: 2 } as Record<string, number>;
    const y = r.a.map((a, i) => 4 * a + r.b[i]! + 0.75 * shift[r.m[i]!]! + r.noise[i]!);
    const imp = byName(parameterImportance(columns(r), y, { seed: 3 }));
    expect(imp.a).toBeGreaterThan(imp.method!);
    expect(imp.method).toBeGreaterThan(imp.b!);
    expect(imp.b).toBeGreaterThan(imp.c!);
    expect(imp.c).toBeLessThan(0.05);
    expect(Object.values(imp).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
  });

  it('a categorical parameter alone, a constant objective, too few rows, non-finite objectives left out', () => {
    const r = rows(120, 5);
    const y = r.m.map((m, i) => (m === 'phm' ? 10 : 0) + r.noise[i]!);
    const imp = byName(parameterImportance(columns(r), y));
    expect(imp.method).toBeGreaterThan(0.9);
    expect(parameterImportance(columns(r), r.a.map(() => 7)).every((x) => x.importance === 0)).toBe(true);
    expect(parameterImportance(columns(rows(1)), [3]).every((x) => x.importance === 0)).toBe(true);
    const withNaN = y.map((v, i) => (i % 10 === 0 ? Number.NaN : v));
    expect(byName(parameterImportance(columns(r), withNaN)).method).toBeGreaterThan(0.9);
  });

  it('is seeded: the same seed gives the same shares, another seed close ones', () => {
    const r = rows(200, 7);
    const y = r.a.map((a, i) => a * a + 0.3 * r.c[i]! + r.noise[i]!);
    const one = parameterImportance(columns(r), y, { seed: 11 });
    expect(parameterImportance(columns(r), y, { seed: 11 })).toEqual(one);
    const two = byName(parameterImportance(columns(r), y, { seed: 12 }));
    for (const x of one) expect(Math.abs(x.importance - two[x.name]!)).toBeLessThan(0.1);
  });

  it('names the column whose length is wrong', () => {
    expect(() => parameterImportance([{ name: 'lr', kind: 'numeric', values: [1, 2] }], [1, 2, 3])).toThrow(/column lr has 2 values for 3/);
  });
});
