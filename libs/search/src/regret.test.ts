import { describe, expect, it } from 'vitest';
import { bestSoFar, medianInterval, quantileSorted, regretCurve } from './regret.ts';

describe('regret helpers', () => {
  it('best so far and regret against the optimum; NaN never counts as found', () => {
    expect(bestSoFar([3, 5, 2, NaN, 4, 1])).toEqual([3, 3, 2, 2, 2, 1]);
    expect(regretCurve([3, 2, 2.5], 1.5)).toEqual([1.5, 0.5, 0.5]);
    expect(bestSoFar([NaN])).toEqual([Infinity]);
  });

  it('median with a distribution-free 95% interval: order statistics 6 and 15 of 20', () => {
    const xs = Array.from({ length: 20 }, (_, i) => 20 - i); // 20..1
    expect(medianInterval(xs)).toEqual({ median: 10.5, ci: [6, 15] });
    // n = 10: x(2) and x(9) (P(Bin(10, ½) ≤ 1) = 0.011 ≤ 0.025 < P(≤ 2) = 0.055).
    expect(medianInterval(Array.from({ length: 10 }, (_, i) => i + 1)).ci).toEqual([2, 9]);
    // Too few values for 95%: the range.
    expect(medianInterval([3, 1, 2])).toEqual({ median: 2, ci: [1, 3] });
    expect(medianInterval([]).median).toBeNaN();
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
  });
});
