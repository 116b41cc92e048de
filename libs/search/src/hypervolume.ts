// Hypervolume of two-objective points (both minimized) against a reference point, exact, and
// what each point contributes to it: the number to compare multi-objective searches by, and
// what MOTPE's split ranks a Pareto rank's points by.

/** A point of two objectives, both minimized. */
export type Pair = readonly [number, number];

/** Points that dominate the reference point strictly in both objectives, with finite values. */
function inside(points: readonly Pair[], ref: Pair): Pair[] {
  return points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && x < ref[0] && y < ref[1]);
}

/**
 * The area dominated by the points and bounded by ref (the Lebesgue measure of ∪ [x, rx]×[y, ry]).
 * Points not better than ref in both objectives add nothing. O(n log n).
 */
export function hypervolume2d(points: readonly Pair[], ref: Pair): number {
  const ps = inside(points, ref).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let area = 0;
  let bestY = ref[1];
  for (const [x, y] of ps) {
    if (y >= bestY) continue;
    area += (ref[0] - x) * (bestY - y);
    bestY = y;
  }
  return area;
}

/**
 * Each point's exclusive contribution: hypervolume2d(all) − hypervolume2d(all but it). Points
 * dominated (even weakly) by another, points outside ref and each of a set of equal points
 * contribute 0. A point of the front owns the box up to the nearest other point that bounds it
 * (right: the least x with y ≤ its y; above: the least y with x ≤ its x) less what the points it
 * dominates cover inside that box. O(n²) at worst, for the few points of a Pareto rank.
 */
export function hypervolumeContributions2d(points: readonly Pair[], ref: Pair): number[] {
  const ok = (p: Pair) => Number.isFinite(p[0]) && Number.isFinite(p[1]) && p[0] < ref[0] && p[1] < ref[1];
  return points.map((p, i) => {
    if (!ok(p)) return 0;
    const [x, y] = p;
    let right = ref[0];
    let top = ref[1];
    for (let j = 0; j < points.length; j++) {
      if (j === i || !ok(points[j]!)) continue;
      const [qx, qy] = points[j]!;
      if (qx <= x && qy <= y) return 0; // dominated or equal: the others still cover its box
      if (qy <= y) right = Math.min(right, qx);
      if (qx <= x) top = Math.min(top, qy);
    }
    const inside = points.filter((q, j) => j !== i && ok(q) && q[0] < right && q[1] < top);
    return (right - x) * (top - y) - hypervolume2d(inside, [right, top]);
  });
}

/**
 * k of the points chosen greedily for hypervolume: each step adds the one that adds the most to
 * those chosen (ties: the earlier). Returns their indices in the order chosen.
 */
export function greedyHypervolumeSubset(points: readonly Pair[], k: number, ref: Pair): number[] {
  const chosen: number[] = [];
  const left = new Set(points.map((_, i) => i));
  let current = 0;
  while (chosen.length < Math.min(k, points.length)) {
    let best = -1;
    let bestGain = -Infinity;
    for (const i of left) {
      const gain = hypervolume2d([...chosen.map((c) => points[c]!), points[i]!], ref) - current;
      if (gain > bestGain) {
        best = i;
        bestGain = gain;
      }
    }
    chosen.push(best);
    left.delete(best);
    current += Math.max(0, bestGain);
  }
  return chosen;
}

/** A growing front of (x, y) pairs, both minimised, sorted by x, each lower in y than the one before: insert in O(log n + removed), and its hypervolume against a reference. */
export class Front2d {
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];

  /** Adds a point; false when a point of the front dominates it (nothing changes). */
  add(x: number, y: number): boolean {
    let lo = 0;
    let hi = this.xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.xs[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    // The last point with at most x parameters has the least perplexity among them.
    if (lo > 0 && this.ys[lo - 1]! <= y) return false;
    let start = lo;
    while (start > 0 && this.xs[start - 1] === x) start--;
    let end = start;
    while (end < this.xs.length && this.ys[end]! >= y) end++;
    this.xs.splice(start, end - start, x);
    this.ys.splice(start, end - start, y);
    return true;
  }

  hypervolume(ref: readonly [number, number]): number {
    let area = 0;
    let top = ref[1];
    for (let i = 0; i < this.xs.length; i++) {
      const x = this.xs[i]!;
      const y = this.ys[i]!;
      if (x >= ref[0]) break;
      if (y >= top) continue;
      area += (ref[0] - x) * (top - y);
      top = y;
    }
    return area;
  }
}
