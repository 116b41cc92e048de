// Axis scales and tick choice for the hand-drawn SVG charts. Pure functions.

export interface Scale {
  (v: number): number;
  domain: [number, number];
  ticks: number[];
  /** The value at a position of the range (a brush's edge back to data). */
  invert: (px: number) => number;
}

/** 1, 2, 5 × 10^k steps giving about `count` ticks over [lo, hi]. */
export function niceStep(lo: number, hi: number, count: number): number {
  const span = Math.abs(hi - lo) || Math.abs(hi) || 1;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** A linear scale with its domain widened to whole ticks. */
export function linearScale(lo: number, hi: number, range: [number, number], count = 5): Scale {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(lo, hi, count);
  const d0 = Math.floor(lo / step + 1e-9) * step;
  const d1 = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = d0; v <= d1 + step * 1e-6; v += step) ticks.push(+v.toPrecision(12));
  const [r0, r1] = range;
  const f = ((v: number) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0)) as Scale;
  f.domain = [d0, d1];
  f.ticks = ticks;
  f.invert = (px) => d0 + ((px - r0) / (r1 - r0)) * (d1 - d0);
  return f;
}

/**
 * A log10 scale over [lo, hi] (both > 0), domain widened a little; ticks at 1·10^k, adding
 * 2 and 5 ·10^k when the domain spans few decades.
 */
export function logScale(lo: number, hi: number, range: [number, number]): Scale {
  lo = Math.max(lo, Number.MIN_VALUE);
  hi = Math.max(hi, lo);
  let l0 = Math.log10(lo);
  let l1 = Math.log10(hi);
  const pad = Math.max(0.08, (l1 - l0) * 0.06);
  l0 -= pad;
  l1 += pad;
  const decades = l1 - l0;
  const [r0, r1] = range;
  const f = ((v: number) => r0 + ((Math.log10(Math.max(v, Number.MIN_VALUE)) - l0) / (l1 - l0)) * (r1 - r0)) as Scale;
  f.domain = [10 ** l0, 10 ** l1];
  f.invert = (px) => 10 ** (l0 + ((px - r0) / (r1 - r0)) * (l1 - l0));
  if (decades < 0.6) {
    // Less than a factor of 4: round linear steps read better than sparse powers.
    const step = niceStep(f.domain[0], f.domain[1], 6);
    f.ticks = [];
    for (let v = Math.ceil(f.domain[0] / step) * step; v <= f.domain[1]; v += step) f.ticks.push(+v.toPrecision(12));
    return f;
  }
  const mults = decades <= 1.2 ? [1, 1.5, 2, 3, 5, 7] : decades <= 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let k = Math.floor(l0); k <= Math.ceil(l1); k++) {
    for (const m of mults) {
      const v = m * 10 ** k;
      const lv = Math.log10(v);
      if (lv >= l0 - 1e-9 && lv <= l1 + 1e-9) ticks.push(+v.toPrecision(6));
    }
  }
  f.ticks = ticks;
  return f;
}
