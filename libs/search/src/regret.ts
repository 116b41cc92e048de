// Summaries of search runs: the best value found after each trial, its regret against a known
// optimum, and the median of repeated runs with a distribution-free 95% interval.
import { regularizedBeta } from '@lmsweep/algorithms';

/** The least value among the first i + 1, for every i (NaN values never count as found). */
export function bestSoFar(values: readonly number[]): number[] {
  let best = Infinity;
  return values.map((v) => (best = v < best ? v : best));
}

/** Simple regret after each trial: the best value so far minus the optimum (≥ 0 when the optimum is right). */
export function regretCurve(values: readonly number[], optimum: number): number[] {
  return bestSoFar(values).map((b) => b - optimum);
}

/** The q-quantile of sorted values (linear between order statistics, as numpy's default). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** P(Binomial(n, 1/2) ≤ k). */
function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  return regularizedBeta(0.5, n - k, k + 1);
}

/**
 * The median of xs and an interval that covers the population median with probability at least
 * `level` whatever the distribution: order statistics x(j) and x(n+1−j), the largest j with
 * P(Bin(n, ½) ≤ j − 1) ≤ (1 − level)/2 (for n = 20 at 95%: x(6) and x(15), 95.9%). With too few
 * values for that level, the interval is the range.
 */
export function medianInterval(xs: readonly number[], level = 0.95): { median: number; ci: [number, number] } {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { median: NaN, ci: [NaN, NaN] };
  let j = 1;
  while (j + 1 <= Math.floor(n / 2) && binomialHalfCdf(j, n) <= (1 - level) / 2) j++;
  return { median: quantileSorted(s, 0.5), ci: [s[j - 1]!, s[n - j]!] };
}
