import { describe, expect, it } from 'vitest';
import { holmAdjust, logGamma, mean, meanCI95, normalQuantile, pairedDifference, regularizedBeta, sampleStd, studentTQuantile, studentTwoSidedP } from './stats.ts';
import { expectClose } from './testing.ts';

describe('mean and sampleStd', () => {
  it('match hand-computed values', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expectClose(sampleStd([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7), { rtol: 1e-15 });
    expect(mean([])).toBeNaN();
    expect(sampleStd([3])).toBeNaN();
  });
  it('is accurate for large offsets', () => {
    expectClose(sampleStd([1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16]), Math.sqrt(30), { rtol: 1e-12 });
  });
});

describe('special functions', () => {
  it('logGamma', () => {
    expectClose(logGamma(1), 0, { atol: 1e-14 });
    expectClose(logGamma(0.5), 0.5 * Math.log(Math.PI), { rtol: 1e-14 });
    expectClose(logGamma(10), Math.log(362880), { rtol: 1e-14 });
    expectClose(logGamma(100.5), 361.43554046777762, { rtol: 1e-13 });
  });
  it('regularizedBeta', () => {
    // I_x(1, 1) = x; I_x(a, 1) = x^a; I_0.5(a, a) = 0.5
    expectClose(regularizedBeta(0.3, 1, 1), 0.3, { rtol: 1e-13 });
    expectClose(regularizedBeta(0.3, 2.5, 1), 0.3 ** 2.5, { rtol: 1e-13 });
    expectClose(regularizedBeta(0.5, 7.25, 7.25), 0.5, { rtol: 1e-13 });
  });
  it('normalQuantile', () => {
    expectClose(normalQuantile(0.975), 1.9599639845400539, { rtol: 1e-14 });
    expectClose(normalQuantile(0.5), 0, { atol: 1e-16 });
    expectClose(normalQuantile(1e-10), -6.3613409024040562, { rtol: 1e-13 });
  });
});

describe('studentTQuantile', () => {
  // Reference values: libs/algorithms/scripts/reference-values.py (50-digit mpmath).
  const table: [number, number, number][] = [
    [0.975, 1, 12.706204736174693],
    [0.975, 2, 4.3026527297494618],
    [0.975, 3, 3.1824463052837084],
    [0.975, 4, 2.7764451051977935],
    [0.975, 9, 2.262157162798205],
    [0.975, 29, 2.0452296421327039],
    [0.975, 100, 1.9839715185235519],
    [0.95, 10, 1.8124611228116759],
    [0.995, 5, 4.0321429835552272],
    [0.9, 3, 1.6377443536962103],
    [0.999, 7, 4.7852896286383333],
    [0.6, 15, 0.25788530093726107],
    [0.975, 2.5, 3.5746548420036818],
    [0.9999, 3, 22.203742273205002],
    [0.975, 1e6, 1.9599663568141067],
    [0.975, Infinity, 1.9599639845400539],
  ];
  it.each(table)('t(%d, %d) = %d', (p, df, t) => {
    expectClose(studentTQuantile(p, df), t, { rtol: 1e-11 });
    expectClose(studentTQuantile(1 - p, df), -t, { rtol: 1e-9 });
  });
  it('handles the median and bad input', () => {
    expect(studentTQuantile(0.5, 7)).toBe(0);
    expect(studentTQuantile(1, 3)).toBe(Infinity);
    expect(studentTQuantile(1.5, 3)).toBeNaN();
    expect(studentTQuantile(0.9, 0)).toBeNaN();
  });
  it('decreases toward the normal quantile as df grows', () => {
    let prev = Infinity;
    for (const df of [1, 2, 3, 5, 10, 30, 100, 1e3, 1e5, 1e8, Infinity]) {
      const t = studentTQuantile(0.975, df);
      expect(t).toBeLessThan(prev);
      prev = t;
    }
  });
});

describe('meanCI95', () => {
  it('uses t(0.975, n−1)·s/√n', () => {
    const ci = meanCI95([10, 12, 14]);
    expect(ci.n).toBe(3);
    expect(ci.mean).toBe(12);
    expectClose(ci.halfWidth, (4.302652729749464 * 2) / Math.sqrt(3), { rtol: 1e-9 });
    expectClose(ci.lo, 12 - ci.halfWidth, { rtol: 1e-15 });
    expectClose(ci.hi, 12 + ci.halfWidth, { rtol: 1e-15 });
  });
  it('has no interval for a single value', () => {
    const ci = meanCI95([5]);
    expect(ci).toMatchObject({ mean: 5, n: 1 });
    expect(ci.halfWidth).toBeNaN();
    expect(ci.lo).toBeNaN();
    expect(meanCI95([]).mean).toBeNaN();
  });
});

describe('pairedDifference and holmAdjust', () => {
  // R's `sleep` data (Cushny & Peebles 1905, in R's datasets): t.test(sleep$extra[1:10],
  // sleep$extra[11:20], paired = TRUE) gives t = -4.0621, df = 9, p-value = 0.002833,
  // 95 percent confidence interval -2.4598858 -0.7001142, mean difference -1.58.
  const drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
  const drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

  it("matches R's paired t-test on the sleep data", () => {
    const d = pairedDifference(drug1, drug2);
    expectClose(d.mean, -1.58, { rtol: 1e-12 });
    expectClose([d.lo, d.hi], [-2.4598858, -0.7001142], { rtol: 1e-7 });
    expectClose(d.t, -4.0621, { rtol: 1e-4 });
    expectClose(d.p, 0.002833, { rtol: 1e-3 });
    expect(d.n).toBe(10);
    // Swapping the sides flips the sign, not the p.
    const r = pairedDifference(drug2, drug1);
    expectClose([r.mean, r.t, r.p], [1.58, -d.t, d.p], { rtol: 1e-12 });
  });

  it('two-sided p: 1 at t = 0, 0.05 at the 97.5% quantile, symmetric', () => {
    expect(studentTwoSidedP(0, 4)).toBe(1);
    for (const df of [1, 2, 5, 30]) expectClose(studentTwoSidedP(studentTQuantile(0.975, df), df), 0.05, { rtol: 1e-8 });
    expect(studentTwoSidedP(-2, 7)).toBe(studentTwoSidedP(2, 7));
  });

  it('one pair has no interval or p; equal differences are certain; unequal lengths are refused', () => {
    expect(pairedDifference([3], [1])).toMatchObject({ mean: 2, n: 1 });
    expect(Number.isNaN(pairedDifference([3], [1]).p)).toBe(true);
    expect(pairedDifference([3, 4], [1, 2])).toMatchObject({ mean: 2, halfWidth: 0, p: 0 });
    expect(pairedDifference([1, 2], [1, 2])).toMatchObject({ mean: 0, p: 1 });
    expect(() => pairedDifference([1, 2], [1])).toThrow(/length/);
  });

  it("Holm's adjustment: R's p.adjust(c(0.01, 0.04, 0.03, 0.05, 0.02), 'holm'), in the input's order; NaN left out of m", () => {
    expectClose(holmAdjust([0.01, 0.04, 0.03, 0.05, 0.02]), [0.05, 0.09, 0.09, 0.09, 0.08], { rtol: 1e-12 });
    const withNaN = holmAdjust([0.02, NaN, 0.01]);
    expectClose([withNaN[0]!, withNaN[2]!], [0.02, 0.02], { rtol: 1e-12 });
    expect(Number.isNaN(withNaN[1]!)).toBe(true);
    expect(holmAdjust([0.6, 0.9])).toEqual([1, 1]);
  });
});
