// Pareto front of (size, error) points, both minimized.

export interface XY {
  x: number;
  y: number;
}

/**
 * Marks the points on the Pareto front when both coordinates are minimized (e.g. parameter
 * count and perplexity): a point is on the front unless another point is ≤ in both coordinates
 * and < in at least one. Identical points do not dominate each other (both stay on the front
 * when nothing else dominates them). Points with a NaN coordinate are never on the front and
 * dominate nothing. O(n log n).
 *
 * points:[n] → onFront:[n], in input order.
 */
export function paretoFront(points: readonly XY[]): boolean[] {
  const n = points.length;
  const onFront = new Array<boolean>(n).fill(false);
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    if (!Number.isNaN(p.x) && !Number.isNaN(p.y)) order.push(i);
  }
  order.sort((a, b) => {
    const pa = points[a]!;
    const pb = points[b]!;
    return pa.x !== pb.x ? (pa.x < pb.x ? -1 : 1) : pa.y !== pb.y ? (pa.y < pb.y ? -1 : 1) : 0;
  });
  // bestY: the least y among points with strictly smaller x.
  let bestY = Infinity;
  let seenAny = false;
  for (let g = 0; g < order.length; ) {
    const x = points[order[g]!]!.x;
    let end = g;
    while (end < order.length && points[order[end]!]!.x === x) end++;
    const groupMinY = points[order[g]!]!.y; // sorted by y within equal x
    for (let k = g; k < end; k++) {
      const y = points[order[k]!]!.y;
      // Dominated by a smaller x with y' ≤ y, or by the same x with y' < y.
      const dominated = (seenAny && bestY <= y) || y > groupMinY;
      onFront[order[k]!] = !dominated;
    }
    if (!seenAny || groupMinY < bestY) bestY = groupMinY;
    seenAny = true;
    g = end;
  }
  return onFront;
}

/**
 * Non-dominated sorting: the Pareto rank of every point (0 for the front, 1 for the front of the
 * rest, …), the same as peeling paretoFront repeatedly but O(n log n): points sorted by x then
 * y, each rank is the first front with no point that dominates it, found by binary search on
 * the least y of every front so far (non-decreasing in the rank). Points with a NaN coordinate
 * get the rank after the last.
 */
export function paretoRanks(points: readonly XY[]): number[] {
  const n = points.length;
  const rank = new Array<number>(n).fill(-1);
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (!Number.isNaN(points[i]!.x) && !Number.isNaN(points[i]!.y)) order.push(i);
  order.sort((a, b) => {
    const pa = points[a]!;
    const pb = points[b]!;
    return pa.x !== pb.x ? (pa.x < pb.x ? -1 : 1) : pa.y !== pb.y ? (pa.y < pb.y ? -1 : 1) : 0;
  });
  const minY: number[] = [];
  // Points equal in both coordinates do not dominate each other: rank a run of them against
  // the fronts before any of them joins.
  for (let g = 0; g < order.length; ) {
    const p = points[order[g]!]!;
    let end = g;
    while (end < order.length && points[order[end]!]!.x === p.x && points[order[end]!]!.y === p.y) end++;
    let lo = 0;
    let hi = minY.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (minY[mid]! > p.y) hi = mid;
      else lo = mid + 1;
    }
    for (let k = g; k < end; k++) rank[order[k]!] = lo;
    if (lo === minY.length) minY.push(p.y);
    else minY[lo] = Math.min(minY[lo]!, p.y);
    g = end;
  }
  const last = minY.length;
  return rank.map((r) => (r < 0 ? last : r));
}
