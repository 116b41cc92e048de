// Metric curves as the API serves them. tRPC sends JSON, which has no NaN or ±Infinity (they would
// become a bare null): a point whose stored value is not finite (where a run diverged) is served
// with `value: null` and `nonFinite` naming it, so no client mistakes it for a missing value. A
// client drawing a curve at some width asks for at most that many points: a long curve is thinned
// to each stretch's lowest and highest points (minima, spikes and non-finite values kept), the
// first and the last always kept.
import { nonFiniteName, type NonFiniteName } from '@lmsweep/protocol';
import type { Curve, CurvePoint } from '@lmsweep/db';
import { thin } from '@lmsweep/sweep';

export { thin };

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
