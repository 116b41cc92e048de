// The point under the pointer among thousands: a grid of square cells over the plot, each
// holding the points inside it, so a lookup reads the 3 × 3 cells around the pointer instead of
// every point. Pure geometry, in SVG pixels.

export interface PointIndex {
  cell: number;
  xs: Float64Array;
  ys: Float64Array;
  cells: Map<number, number[]>;
}

const key = (i: number, j: number) => i * 1_000_003 + j;

/** An index of points (x, y); `cell` should be at least the largest distance asked for. */
export function indexPoints(points: readonly { x: number; y: number }[], cell = 16): PointIndex {
  const xs = new Float64Array(points.length);
  const ys = new Float64Array(points.length);
  const cells = new Map<number, number[]>();
  points.forEach((p, n) => {
    xs[n] = p.x;
    ys[n] = p.y;
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) return;
    const k = key(Math.floor(p.x / cell), Math.floor(p.y / cell));
    const c = cells.get(k);
    if (c) c.push(n);
    else cells.set(k, [n]);
  });
  return { cell, xs, ys, cells };
}

/** The index of the point nearest (x, y) within `within` pixels (at most the index's cell), or null; ties go to the later point (the one drawn on top). */
export function nearest(ix: PointIndex, x: number, y: number, within: number): number | null {
  const r = Math.min(within, ix.cell);
  const [ci, cj] = [Math.floor(x / ix.cell), Math.floor(y / ix.cell)];
  let best: number | null = null;
  let bestD = r * r;
  for (let i = ci - 1; i <= ci + 1; i++) {
    for (let j = cj - 1; j <= cj + 1; j++) {
      for (const n of ix.cells.get(key(i, j)) ?? []) {
        const d = (ix.xs[n]! - x) ** 2 + (ix.ys[n]! - y) ** 2;
        if (d <= bestD) {
          bestD = d;
          best = n;
        }
      }
    }
  }
  return best;
}
