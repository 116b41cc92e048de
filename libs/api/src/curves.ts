// Metric curves as the API serves them. tRPC sends JSON, which has no NaN or ±Infinity (they would
// become a bare null): a point whose stored value is not finite (where a run diverged) is served
// with `value: null` and `nonFinite` naming it, so no client mistakes it for a missing value.
import { nonFiniteName, type NonFiniteName } from '@lmsweep/protocol';
import type { Curve, CurvePoint } from '@lmsweep/db';

export type ApiCurvePoint = Omit<CurvePoint, 'value'> & {
  /** The value; null when it is not finite, and then `nonFinite` says which. */
  value: number | null;
  nonFinite?: NonFiniteName;
};
export type ApiCurve = Omit<Curve, 'points'> & { points: ApiCurvePoint[] };

export function apiCurvePoint(p: CurvePoint): ApiCurvePoint {
  const name = nonFiniteName(p.value);
  return name === null ? p : { ...p, value: null, nonFinite: name };
}

export function apiCurves(curves: Curve[]): ApiCurve[] {
  return curves.map((c) => ({ ...c, points: c.points.map(apiCurvePoint) }));
}
