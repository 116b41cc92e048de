import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { paretoFront, type XY } from './pareto.ts';

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
  it('is fast on large inputs', () => {
    const pts = Array.from({ length: 200_000 }, (_, i) => ({ x: (i * 7919) % 100_003, y: (i * 104_729) % 99_991 }));
    const t0 = performance.now();
    const front = paretoFront(pts);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(front.some(Boolean)).toBe(true);
  });
});
