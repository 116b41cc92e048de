import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frequencyOrder } from './low-rank.ts';
import { allocateRanks, COMMON_RANK, frequencyBlockSizes, RateError, rateRefusal, type RankOrder } from './rank-budget.ts';
import { expectClose } from './testing.ts';

/** Every parameter count Σₚ r_p·(|p| + D) with 1 ≤ r_p ≤ min(D, |p|), by brute force: a bitmap. */
function reachable(sizes: number[], D: number): Uint8Array {
  const full = sizes.reduce((s, n) => s + Math.min(D, n) * (n + D), 0);
  let reach = new Uint8Array(full + 1);
  reach[0] = 1;
  for (const n of sizes) {
    const next = new Uint8Array(full + 1);
    const c = n + D;
    for (let t = 0; t <= full; t++) {
      if (!reach[t]) continue;
      for (let r = 1; r <= Math.min(D, n) && t + r * c <= full; r++) next[t + r * c] = 1;
    }
    reach = next;
  }
  return reach;
}

const meets = (ND: number, params: number, rate: number, tol: number) => Math.abs(ND / params - rate) <= tol * rate;

/** What any allocation can do: whether some count meets the rate, and the nearest counts below and above the window. */
function oracle(sizes: number[], D: number, rate: number, tol: number) {
  const reach = reachable(sizes, D);
  const ND = sizes.reduce((s, n) => s + n, 0) * D;
  let feasible = false;
  let below: number | null = null;
  let above: number | null = null;
  for (let t = 1; t < reach.length; t++) {
    if (!reach[t]) continue;
    if (meets(ND, t, rate, tol)) feasible = true;
    else if (ND / t > rate) below = t;
    else if (above === null) above = t;
  }
  return { feasible, nearest: [below, above].filter((x): x is number => x !== null).map((t) => ND / t) };
}

function checkAllocation(sizes: number[], D: number, rate: number, tol: number, ranks: number[], params: number, achieved: number): void {
  expect(ranks.length).toBe(sizes.length);
  ranks.forEach((r, p) => {
    expect(Number.isInteger(r)).toBe(true);
    expect(r).toBeGreaterThanOrEqual(1);
    expect(r).toBeLessThanOrEqual(Math.min(D, sizes[p]!));
  });
  expect(params).toBe(ranks.reduce((s, r, p) => s + r * (sizes[p]! + D), 0));
  const ND = sizes.reduce((s, n) => s + n, 0) * D;
  expect(achieved).toBe(ND / params);
  // Never misses the target by more than the tolerance.
  expect(Math.abs(achieved - rate)).toBeLessThanOrEqual(tol * rate);
}

/** Allocates, or returns the RateError's nearest rates. */
function attempt(sizes: number[], D: number, rate: number, tol: number, order: RankOrder) {
  try {
    return { ok: allocateRanks(sizes, D, { rate, tolerance: tol }, order, 'test') };
  } catch (e) {
    if (!(e instanceof RateError)) throw e;
    return { refused: e };
  }
}

const tolerances = fc.constantFrom(0.001, 0.005, 0.01, 0.03, 0.1);
const meanFreqs = (k: number) => fc.array(fc.oneof(fc.constant(0), fc.double({ min: 1e-4, max: 1, noNaN: true })), { minLength: k, maxLength: k });

describe('allocateRanks meets any rate that some rank vector meets', () => {
  it('frequency blocks (at most two sizes), both orders, and rateRefusal agrees', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 12 }),
        fc.double({ min: 1, max: 80, noNaN: true }),
        tolerances,
        fc.boolean(),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }),
        (N, D, c0, rate, tol, common, freq) => {
          const c = Math.min(N, c0);
          const sizes = frequencyBlockSizes(N, c);
          const want = oracle(sizes, D, rate, tol);
          const means = freq.slice(0, c).sort((a, b) => b - a);
          if (!means.some((f) => f > 0)) means[0] = 1;
          const order = common ? COMMON_RANK : frequencyOrder(means, sizes.map((n) => Math.min(D, n)));
          const got = attempt(sizes, D, rate, tol, order);
          const refusal = rateRefusal(N, D, c, { rate, tolerance: tol }, 'test');
          if (want.feasible) {
            expect(got.refused?.message).toBeUndefined();
            checkAllocation(sizes, D, rate, tol, got.ok!.ranks, got.ok!.params, got.ok!.rate);
            expect(refusal).toBeNull();
          } else {
            expect(got.ok).toBeUndefined();
            expectClose(got.refused!.nearest, want.nearest, { rtol: 1e-12 });
            expect(refusal).not.toBeNull();
            expectClose(refusal!.nearest, want.nearest, { rtol: 1e-12 });
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('any block sizes (GroupReduce moves words between blocks): three and more sizes too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 1, max: 60, noNaN: true }),
        tolerances,
        meanFreqs(6),
        (sizes, D, rate, tol, freq) => {
          const means = freq.slice(0, sizes.length);
          if (!means.some((f) => f > 0)) means[0] = 1;
          const want = oracle(sizes, D, rate, tol);
          const got = attempt(sizes, D, rate, tol, frequencyOrder(means, sizes.map((n) => Math.min(D, n))));
          if (want.feasible) {
            expect(got.refused?.message).toBeUndefined();
            checkAllocation(sizes, D, rate, tol, got.ok!.ranks, got.ok!.params, got.ok!.rate);
          } else {
            expect(got.ok).toBeUndefined();
            expectClose(got.refused!.nearest, want.nearest, { rtol: 1e-12 });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("the method's own order", () => {
  it('the issue case: 10000×200 in 5 blocks at rate 5 (common rank 36 alone gives 5.0505)', () => {
    const sizes = frequencyBlockSizes(10_000, 5);
    const common = allocateRanks(sizes, 200, { rate: 5 }, COMMON_RANK, 'block-weighted-svd');
    // Rank 36 everywhere is 396,000 parameters; two more ranks on the most frequent blocks: 400,400.
    expect(common.ranks).toEqual([37, 37, 36, 36, 36]);
    expect(common.params).toBe(400_400);
    expectClose(common.rate, 4.995005, { rtol: 1e-6 });
    expect(allocateRanks([10_000], 200, { rate: 5 }, COMMON_RANK, 'svd').ranks).toEqual([39]);
    const zipfMeans = [0.6, 0.2, 0.1, 0.06, 0.04];
    const dyn = allocateRanks(sizes, 200, { rate: 5 }, frequencyOrder(zipfMeans, sizes.map(() => 200)), 'dynamic-rank');
    expect(Math.abs(dyn.rate - 5)).toBeLessThanOrEqual(0.05);
    for (let p = 1; p < 5; p++) expect(dyn.ranks[p]!).toBeLessThanOrEqual(dyn.ranks[p - 1]!);
    expect(rateRefusal(10_000, 200, 5, { rate: 5 }, 'block-weighted-svd')).toBeNull();
  });

  it('where the path skips the window, the search finds the counts between (two sizes)', () => {
    // 10001 rows in 5 blocks: sizes 2001, 2000 ×4 (rank costs 2201 and 2200). At rate 100 the
    // window is [19804, 20204] parameters: the common-rank path steps from 19802 (ranks
    // 2/2/2/2/1, rate 101.01) to 22002, but 9 ranks, four of them on the 2001-row block, give
    // 4·2201 + 5·2200 = 19804 (the count in the window nearest the path's 19802).
    const sizes = frequencyBlockSizes(10_001, 5);
    const got = allocateRanks(sizes, 200, { rate: 100 }, COMMON_RANK, 'block-weighted-svd');
    expect(got.params).toBe(19_804);
    expect(got.ranks).toEqual([4, 2, 1, 1, 1]);
    expect(oracle(sizes, 200, 100, 0.01).feasible).toBe(true);
    // With 10000 rows every block costs 2200 a rank: 19800 and 22000 are the nearest, and refused.
    expect(() => allocateRanks(frequencyBlockSizes(10_000, 5), 200, { rate: 100 }, COMMON_RANK, 'block-weighted-svd')).toThrow(
      /^rate 100 is impossible for block-weighted-svd within 1%: the nearest rates it can meet are 101\.01 and 90\.909 \(19800 and 22000 parameters\)$/,
    );
  });

  it('refusals name the nearest rates: above rank 1 everywhere, and between two ranks', () => {
    expect(rateRefusal(10_000, 200, 5, { rate: 2000 }, 'groupreduce')?.message).toBe(
      'rate 2000 is impossible for groupreduce within 1%: rank 1 in each of 5 blocks already costs 11000 parameters (rate 181.82, the highest it can meet)',
    );
    const e = rateRefusal(1000, 100, 1, { rate: 5 }, 'svd')!;
    expect(e.message).toBe('rate 5 is impossible for svd within 1%: the nearest ranks 18 and 19 give rates 5.0505 and 4.7847');
    expectClose(e.nearest, [100_000 / 19_800, 100_000 / 20_900], { rtol: 1e-12 });
    expect(() => allocateRanks([10], 5, { rate: 0.5 }, COMMON_RANK, 'svd')).toThrow(/rate 0\.5 is impossible: a compression rate is N·D \/ params ≥ 1/);
    expect(() => allocateRanks([10, 0], 5, { rate: 2 }, COMMON_RANK, 'svd')).toThrow(/block 1 has 0 rows/);
    expect(() => rateRefusal(10, 5, 11, { rate: 2 }, 'svd')).toThrow(/blocks must be an integer in \[1, 10\], got 11/);
  });

  it('a search too large for its table is refused quickly, saying so', () => {
    // Three sizes and a tolerance of 1e-9: the window is narrower than any step, the table would be
    // 3·(10⁷ + …) cells.
    const sizes = [50_000, 30_000, 20_001];
    const t0 = performance.now();
    expect(() => allocateRanks(sizes, 500, { rate: 5.0001, tolerance: 1e-9 }, COMMON_RANK, 'groupreduce')).toThrow(/were not searched \(over 20000000 cells\)/);
    expect(performance.now() - t0).toBeLessThan(5000); // a hang guard, not a benchmark
  });

  it('dynamic rank keeps frequent blocks at more rank, and its allocations only grow with the budget', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 200, max: 3000 }),
        fc.integer({ min: 8, max: 80 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.double({ min: 1e-3, max: 1, noNaN: true }), { minLength: 8, maxLength: 8 }),
        (N, D, c, freq) => {
          const sizes = frequencyBlockSizes(N, c);
          const caps = sizes.map((n) => Math.min(D, n));
          const means = freq.slice(0, c).sort((a, b) => b - a);
          const order = frequencyOrder(means, caps);
          let prev: number[] | null = null;
          // A generous tolerance keeps every rate on the path (the window wider than any step).
          for (const rate of [12, 8, 6, 5, 4, 3, 2.5, 2]) {
            const got = attempt(sizes, D, rate, 0.3, order).ok;
            if (!got) continue;
            for (let p = 1; p < c; p++) if (means[p]! < means[p - 1]!) expect(got.ranks[p]!).toBeLessThanOrEqual(got.ranks[p - 1]!);
            if (prev) got.ranks.forEach((r, p) => expect(r).toBeGreaterThanOrEqual(prev![p]!));
            prev = got.ranks;
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
