import { describe, expect, it } from 'vitest';
import { expectClose } from '@lmsweep/algorithms';
import { hashInts, Rng, rngFor } from './rng.ts';

describe('seeded generator', () => {
  it('is a function of its seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(new Rng(43).next()).not.toBe(xs[0]);
    expect(rngFor(7, 3).next()).toBe(rngFor(7, 3).next());
    expect(rngFor(7, 3).next()).not.toBe(rngFor(7, 4).next());
    expect(hashInts(1, 2)).not.toBe(hashInts(2, 1));
    expect(hashInts(2 ** 32)).not.toBe(hashInts(0));
  });

  it('draws on [0, 1) with the uniform moments; int, normal and choice', () => {
    const r = new Rng(1);
    const n = 50_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      s += x;
      s2 += x * x;
    }
    // mean 1/2 and E[x²] = 1/3, each within 5 standard errors (≈ 0.0013 and 0.0013).
    expectClose(s / n, 0.5, { atol: 0.007 });
    expectClose(s2 / n, 1 / 3, { atol: 0.007 });
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[r.choice([1, 0, 3])]!++;
    expect(counts[1]).toBe(0);
    expectClose(counts[2]! / 30_000, 0.75, { atol: 0.02 });
    let m = 0;
    for (let i = 0; i < 20_000; i++) m += r.normal();
    expectClose(m / 20_000, 0, { atol: 0.04 });
    for (let i = 0; i < 1000; i++) expect(r.int(3)).toBeLessThan(3);
    expect(() => r.int(0)).toThrow(/positive/);
    expect(() => r.choice([0, 0])).toThrow(/zero/);
  });
});
