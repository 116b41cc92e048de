import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { paretoFront, paretoRanks, type XY } from './pareto.ts';

function bruteForce(points: readonly XY[]): boolean[] {
  return points.map((p) => {
    if (Number.isNaN(p.x) || Number.isNaN(p.y)) return false;
    return !points.some((q) => q.x <= p.x && q.y <= p.y && (q.x < p.x || q.y < p.y));
  });
}

describe('paretoFront', () => {
  it('marks the non-dominated points', () => {
    const pts = [
      { x: 1, y: 10 },
      { x: 2, y: 5 },
      { x: 3, y: 7 }, // dominated by (2, 5)
      { x: 4, y: 1 },
      { x: 4, y: 2 }, // same x, worse y
    ];
    expect(paretoFront(pts)).toEqual([true, true, false, true, false]);
  });
  it('keeps identical points together and handles ties in one coordinate', () => {
    expect(paretoFront([{ x: 1, y: 1 }, { x: 1, y: 1 }, { x: 2, y: 1 }, { x: 1, y: 2 }])).toEqual([true, true, false, false]);
    expect(paretoFront([])).toEqual([]);
    expect(paretoFront([{ x: NaN, y: 0 }, { x: 5, y: 5 }])).toEqual([false, true]);
    expect(paretoFront([{ x: Infinity, y: 0 }, { x: 0, y: Infinity }])).toEqual([true, true]);
  });
  it('agrees with the O(n²) definition', () => {
    const coord = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.double({ min: -100, max: 100, noNaN: true }), fc.constant(NaN), fc.constant(Infinity));
    fc.assert(
      fc.property(fc.array(fc.record({ x: coord, y: coord }), { maxLength: 40 }), (pts) => {
        expect(paretoFront(pts)).toEqual(bruteForce(pts));
      }),
      { numRuns: 500 },
    );
  });
  it('handles 200k points (speed is for benchmarks; this checks the answer at scale)', () => {
    const pts = Array.from({ length: 200_000 }, (_, i) => ({ x: (i * 7919) % 100_003, y: (i * 104_729) % 99_991 }));
    const front = paretoFront(pts);
    // The front is a staircase: sorted by x, its y strictly decrease.
    const onFront = pts.filter((_, i) => front[i]).sort((a, b) => a.x - b.x);
    expect(onFront.length).toBeGreaterThan(0);
    for (let i = 1; i < onFront.length; i++) expect(onFront[i]!.y).toBeLessThan(onFront[i - 1]!.y);
  });
});

/** Ranks by peeling fronts with paretoFront; NaN points after the last front. */
function peeledRanks(pts: XY[]): number[] {
  const rank = new Array<number>(pts.length).fill(-1);
  let left = pts.map((_, i) => i).filter((i) => !Number.isNaN(pts[i]!.x) && !Number.isNaN(pts[i]!.y));
  let r = 0;
  for (; left.length > 0; r++) {
    const front = paretoFront(left.map((i) => pts[i]!));
    const next: number[] = [];
    left.forEach((i, k) => (front[k] ? (rank[i] = r) : next.push(i)));
    left = next;
  }
  return rank.map((x) => (x < 0 ? r : x));
}

describe('paretoRanks', () => {
  it('equals peeling fronts one by one, ties and NaN included', () => {
    const coord = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: -100, max: 100, noNaN: true }), fc.constant(NaN), fc.constant(Infinity));
    fc.assert(
      fc.property(fc.array(fc.record({ x: coord, y: coord }), { maxLength: 60 }), (pts) => {
        expect(paretoRanks(pts)).toEqual(peeledRanks(pts));
      }),
      { numRuns: 500 },
    );
  });
  it('ranks a chain one front each and equal points together', () => {
    expect(paretoRanks([{ x: 1, y: 1 }, { x: 2, y: 2 }, { x: 3, y: 3 }, { x: 2, y: 2 }, { x: 0, y: 9 }])).toEqual([0, 1, 2, 1, 0]);
    expect(paretoRanks([])).toEqual([]);
  });
});
