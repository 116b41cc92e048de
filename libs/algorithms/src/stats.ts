// Summary statistics for sweep results: means, sample deviations, Student-t confidence intervals, paired t-tests and Holm's adjustment.

/** Arithmetic mean; NaN for an empty list. */
export function mean(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i]!;
  return s / n;
}

/** Sample standard deviation (divisor n − 1, two-pass); NaN for fewer than two values. */
export function sampleStd(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  let comp = 0; // corrected two-pass: subtracts the rounding error of the mean
  for (let i = 0; i < n; i++) {
    const d = xs[i]! - m;
    ss += d * d;
    comp += d;
  }
  return Math.sqrt(Math.max(0, (ss - (comp * comp) / n) / (n - 1)));
}

// ---- special functions ----

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x > 0 (Lanczos, g = 7; relative error ≈ 1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 100_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b), a, b > 0, x ∈ [0, 1]. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1) || !(a > 0) || !(b > 0)) return NaN;
  if (x === 0 || x === 1) return x;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Upper tail P(T > t) of Student's t with df degrees of freedom, for t ≥ 0. */
function studentUpperTail(t: number, df: number): number {
  const x = df / (df + t * t);
  return 0.5 * regularizedBeta(x, df / 2, 0.5);
}

function studentPdf(t: number, df: number): number {
  const lnC = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(lnC - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/**
 * Standard normal quantile Φ⁻¹(p) (Wichura's AS 241, PPND16; relative error ≈ 1e-16).
 * Returns ±Infinity at p = 0 / 1 and NaN outside [0, 1].
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r +
          13731.693765509461125) *
          r +
          1971.5909503065514427) *
          r +
          133.14166789178437745) *
          r +
          3.387132872796366608)) /
      (((((((r * 5226.495278852545925 + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r +
        5394.1960214247511077) *
        r +
        687.1870074920579083) *
        r +
        42.313330701600911252) *
        r +
        1)
    );
  }
  let r = q < 0 ? p : 1 - p;
  r = Math.sqrt(-Math.log(r));
  let val: number;
  if (r <= 5) {
    r -= 1.6;
    val =
      (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r +
        3.64784832476320460504) *
        r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r +
        0.68976733498510000455) *
        r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    val =
      (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r +
        0.29656057182850489123) *
        r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
        0.0148753612908506148525) *
        r +
        0.13692988092273580531) *
        r +
        0.59983220655588793769) *
        r +
        1);
  }
  return q < 0 ? -val : val;
}

/**
 * Quantile of Student's t distribution: the t with P(T ≤ t) = p, for df > 0 degrees of freedom
 * (real df allowed; df = Infinity gives the normal quantile). Accurate to ≈1e-10 over usual p.
 * NaN for p outside [0, 1] or df ≤ 0; ±Infinity at p = 0 / 1.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p >= 0 && p <= 1) || !(df > 0)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  const tail = 1 - p; // the upper tail we solve for; small tails stay accurate
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const z = normalQuantile(p);
  // Cornish–Fisher expansion around the normal quantile: exact enough for huge df, a start otherwise.
  const z2 = z * z;
  const g1 = (z * (z2 + 1)) / 4;
  const g2 = (z * ((5 * z2 + 16) * z2 + 3)) / 96;
  const g3 = (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / 384;
  const g4 = (z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945)) / 92160;
  const cf = z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
  if (!Number.isFinite(df) || df > 1e4) return cf; // next term ≈ z¹¹/df⁵: negligible
  // Safeguarded Newton on the upper tail: f(t) = tail(t) − tail, f'(t) = −pdf(t), decreasing in t.
  let lo = 0;
  let hi = Math.max(1, cf * 2);
  while (studentUpperTail(hi, df) > tail) hi *= 2;
  let t = cf > lo && cf < hi ? cf : (lo + hi) / 2;
  for (let it = 0; it < 200; it++) {
    const f = studentUpperTail(t, df) - tail;
    if (f > 0) lo = t;
    else hi = t;
    let next = t + f / studentPdf(t, df);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-14 * Math.max(1, Math.abs(t))) return next;
    t = next;
  }
  return t;
}

export interface MeanCI {
  mean: number;
  /** mean − halfWidth */
  lo: number;
  /** mean + halfWidth */
  hi: number;
  /** t(0.975, n − 1) · s / √n */
  halfWidth: number;
  n: number;
}

/**
 * Mean with a two-sided 95% confidence interval from Student's t: mean ± t(0.975, n−1)·s/√n.
 * With one value the interval is unknown: halfWidth, lo and hi are NaN (mean is the value).
 * With none, everything is NaN and n = 0.
 */
export function meanCI95(xs: ArrayLike<number>): MeanCI {
  const n = xs.length;
  const m = mean(xs);
  if (n < 2) return { mean: m, lo: NaN, hi: NaN, halfWidth: NaN, n };
  const halfWidth = (studentTQuantile(0.975, n - 1) * sampleStd(xs)) / Math.sqrt(n);
  return { mean: m, lo: m - halfWidth, hi: m + halfWidth, halfWidth, n };
}

/** Two-sided p-value of Student's t statistic with df degrees of freedom: P(|T| ≥ |t|). */
export function studentTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return Math.min(1, 2 * studentUpperTail(Math.abs(t), df));
}

export interface PairedDifference extends MeanCI {
  /** t = mean / (s / √n) with n − 1 degrees of freedom; NaN with fewer than two pairs. */
  t: number;
  /** Two-sided p of the paired t-test (H₀: the mean difference is 0); NaN with fewer than two pairs, 0 or 1 when every difference is equal. */
  p: number;
}

/**
 * The paired difference a − b (a[i] and b[i] measured on the same unit, e.g. one seed): its mean
 * with the 95% Student-t interval (meanCI95 of the differences) and the paired t-test. The lists
 * must have the same length.
 */
export function pairedDifference(a: ArrayLike<number>, b: ArrayLike<number>): PairedDifference {
  if (a.length !== b.length) throw new RangeError(`paired lists differ in length: ${a.length} and ${b.length}`);
  const d = Array.from({ length: a.length }, (_, i) => a[i]! - b[i]!);
  const ci = meanCI95(d);
  if (ci.n < 2) return { ...ci, t: NaN, p: NaN };
  const se = sampleStd(d) / Math.sqrt(ci.n);
  if (se === 0) return { ...ci, t: ci.mean === 0 ? 0 : Math.sign(ci.mean) * Infinity, p: ci.mean === 0 ? 1 : 0 };
  const t = ci.mean / se;
  return { ...ci, t, p: studentTwoSidedP(t, ci.n - 1) };
}

/**
 * Holm's step-down adjustment of p-values for m simultaneous tests (Holm 1979): sorted
 * ascending, the i-th (from 1) becomes max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎), returned in the
 * input's order. Rejecting where the adjusted p < α controls the family-wise error at α. NaN
 * entries stay NaN and do not count in m.
 */
export function holmAdjust(ps: readonly number[]): number[] {
  const idx = ps.map((p, i) => [p, i] as const).filter(([p]) => !Number.isNaN(p)).sort((x, y) => x[0] - y[0]);
  const m = idx.length;
  const out = ps.map(() => NaN);
  let running = 0;
  idx.forEach(([p, i], j) => {
    running = Math.max(running, Math.min(1, (m - j) * p));
    out[i] = running;
  });
  return out;
}
