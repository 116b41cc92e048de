import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose } from '@lmsweep/algorithms';
import { Front2d, greedyHypervolumeSubset, hypervolume2d, hypervolumeContributions2d, type Pair } from './hypervolume.ts';

describe('hypervolume (two objectives, minimized)', () => {
  it('matches hand-computed areas', () => {
    // A staircase (1,3), (2,2), (3,1) under (4,4): 3·1 + 2·1 + 1·1 = 6.
    const stairs: Pair[] = [[1, 3], [2, 2], [3, 1]];
    expect(hypervolume2d(stairs, [4, 4])).toBe(6);
    // A dominated point, a point outside the reference, a duplicate and a NaN change nothing.
    expect(hypervolume2d([...stairs, [2.5, 2.5], [5, 0], [2, 2], [NaN, 0]], [4, 4])).toBe(6);
    expect(hypervolume2d([[0, 0]], [2, 3])).toBe(6);
    expect(hypervolume2d([], [1, 1])).toBe(0);
    // Exclusive contributions: each step's own rectangle.
    expect(hypervolumeContributions2d(stairs, [4, 4])).toEqual([1, 1, 1]);
    expect(hypervolumeContributions2d([[1, 3], [2, 2], [2, 2], [3, 1], [3, 3]], [4, 4])).toEqual([1, 0, 0, 1, 0]);
    // Greedy subset of 1: the point with the largest box (2,2): 2·2 = 4.
    expect(greedyHypervolumeSubset(stairs, 1, [4, 4])).toEqual([1]);
    expect(greedyHypervolumeSubset(stairs, 3, [4, 4]).sort()).toEqual([0, 1, 2]);
  });

  it('contributions are the hypervolume lost without each point; the volume is the area by a fine grid', () => {
    const pair = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })).map(([a, b]) => [a / 2, b / 2] as const);
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 12 }), (points) => {
        const ref: Pair = [10, 10];
        const all = hypervolume2d(points, ref);
        const contributions = hypervolumeContributions2d(points, ref);
        points.forEach((_, i) => expectClose(contributions[i]!, all - hypervolume2d(points.filter((__, j) => j !== i), ref), { rtol: 1e-12, atol: 1e-12 }));
        // The dominated area counted on a grid of half-unit cells (the points lie on it): exact.
        let cells = 0;
        for (let x = 0; x < 20; x++) for (let y = 0; y < 20; y++) if (points.some(([px, py]) => px <= x / 2 && py <= y / 2)) cells++;
        expect(all).toBe(cells / 4);
      }),
      { numRuns: 200 },
    );
  });

  it('Front2d: points added one by one give, after each, the hypervolume of all so far', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })), { minLength: 1, maxLength: 40 }), (pts) => {
        const front = new Front2d();
        const ref: Pair = [21, 21];
        pts.forEach(([x, y], i) => {
          front.add(x, y);
          expect(front.hypervolume(ref)).toBe(hypervolume2d(pts.slice(0, i + 1) as Pair[], ref));
        });
      }),
      { numRuns: 200 },
    );
  });
});
