import { describe, expect, it } from 'vitest';
import { indexPoints, nearest } from './nearest';

describe('nearest', () => {
  // A seeded cloud of points, each lookup checked against reading every point.
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const points = Array.from({ length: 5_000 }, () => ({ x: rnd() * 1200, y: rnd() * 400 }));
  const ix = indexPoints(points, 16);
  const brute = (x: number, y: number, r: number) => {
    let best: number | null = null;
    let d0 = r * r;
    points.forEach((p, n) => {
      const d = (p.x - x) ** 2 + (p.y - y) ** 2;
      if (d <= d0) [d0, best] = [d, n];
    });
    return best;
  };

  it('finds the point the brute-force search finds, or none when nothing is close', () => {
    for (let k = 0; k < 2_000; k++) {
      const [x, y] = [rnd() * 1240 - 20, rnd() * 440 - 20];
      expect(nearest(ix, x, y, 12)).toBe(brute(x, y, 12));
    }
  });

  it('never reaches past its cell size, and skips points that are not finite', () => {
    const few = indexPoints([{ x: 0, y: 0 }, { x: Number.NaN, y: 5 }, { x: 30, y: 0 }], 16);
    expect(nearest(few, 0, 0, 100)).toBe(0);
    expect(nearest(few, 20, 0, 100)).toBe(2);
    expect(nearest(few, 0, 20, 100)).toBeNull(); // 20 px away: beyond the 16 px cell
    expect(nearest(few, 27, 0, 100)).toBe(2);
    expect(nearest(few, 0, 5, 4)).toBeNull();
  });
});
