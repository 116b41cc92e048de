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
