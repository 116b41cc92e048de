// Metric curves as the API serves them. tRPC sends JSON, which has no NaN or ±Infinity (they would
// become a bare null): a point whose stored value is not finite (where a run diverged) is served
// with `value: null` and `nonFinite` naming it, so no client mistakes it for a missing value. A
// client drawing a curve at some width asks for at most that many points: a long curve is thinned
// to each stretch's lowest and highest points (minima, spikes and non-finite values kept), the
// first and the last always kept.
import { nonFiniteName, type NonFiniteName } from '@lmsweep/protocol';
import type { Curve, CurvePoint } from '@lmsweep/db';

export type ApiCurvePoint = Omit<CurvePoint, 'value'> & {
  /** The value; null when it is not finite, and then `nonFinite` says which. */
  value: number | null;
  nonFinite?: NonFiniteName;
};
export type ApiCurve = Omit<Curve, 'points'> & {
  points: ApiCurvePoint[];
  /** Points stored, when fewer are served (thinned to the number asked). */
  stored?: number;
};

export function apiCurvePoint(p: CurvePoint): ApiCurvePoint {
  const name = nonFiniteName(p.value);
  return name === null ? p : { ...p, value: null, nonFinite: name };
}

/** Least `maxPoints` a client may ask for: the first, the last and a stretch's low and high. */
export const MIN_CURVE_POINTS = 4;

export function apiCurves(curves: Curve[], maxPoints?: number): ApiCurve[] {
  return curves.map((c) => {
    if (maxPoints === undefined || c.points.length <= maxPoints) return { ...c, points: c.points.map(apiCurvePoint) };
    return { ...c, points: thin(c.points, maxPoints).map(apiCurvePoint), stored: c.points.length };
  });
}

/** Ranks a value for thinning: NaN and ±Infinity count as the highest (where a run diverged is kept). */
const rank = (v: number) => (Number.isFinite(v) ? v : Infinity);

/**
 * At most `max` (≥ MIN_CURVE_POINTS) of the points, in order: the first and the last, and in each
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
