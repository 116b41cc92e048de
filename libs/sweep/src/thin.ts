// A long curve thinned for drawing: the first and last points, and each stretch's lowest and
// highest (minima, spikes and non-finite values kept). trials.get serves curves through it, and
// the analysis views and compare theirs.

/** Ranks a value for thinning: NaN and ±Infinity count as the highest (where a run diverged is kept). */
const rank = (v: number) => (Number.isFinite(v) ? v : Infinity);

/**
 * At most `max` (≥ 4) of the points, in order: the first and the last, and in each
 * of ⌊(max − 2) / 2⌋ equal stretches of those between, its lowest and its highest point.
 */
export function thin<P extends { value: number }>(points: readonly P[], max: number): P[] {
  if (points.length <= max) return [...points];
  const inner = points.length - 2;
  const buckets = Math.floor((max - 2) / 2);
  const out: P[] = [points[0]!];
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor((b * inner) / buckets);
    const to = 1 + Math.floor(((b + 1) * inner) / buckets);
    if (to <= from) continue;
    let lo = from;
    let hi = from;
    for (let i = from + 1; i < to; i++) {
      const v = rank(points[i]!.value);
      if (v < rank(points[lo]!.value)) lo = i;
      if (v > rank(points[hi]!.value)) hi = i;
    }
    out.push(points[Math.min(lo, hi)]!);
    if (hi !== lo) out.push(points[Math.max(lo, hi)]!);
  }
  out.push(points[points.length - 1]!);
  return out;
}

/** A curve thinned to `max` points as JSON carries it: [step, value], null where the value is not finite. */
export function thinnedPairs(points: readonly { step: number; value: number }[], max: number): [number, number | null][] {
  return thin(points, max).map((p) => [p.step, Number.isFinite(p.value) ? p.value : null]);
}
