// The standard normal distribution, and normals truncated to an interval: what the Parzen
// estimators' kernels are made of.
import type { Rng } from './rng.ts';

const SQRT2 = Math.SQRT2;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * The complementary error function, relative error below 1.2e-7 everywhere (the Chebyshev-fitted
 * exponential form of Press et al., Numerical Recipes, §6.2), and positive down to erfc(x) ≈ 1e-308.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly);
  return x >= 0 ? r : 2 - r;
}

/** Φ(z), the standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / SQRT2);
}

/** log φ(z), the standard normal log density. */
export function normalLogPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

// Acklam's rational approximation of Φ⁻¹ (relative error 1.15e-9), refined by one Halley step.
const A = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
const B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const C = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

/** Φ⁻¹(p) for p in (0, 1); ±Infinity at 0 and 1. */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const lowTail = 0.02425;
  let x: number;
  if (p < lowTail) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  } else if (p <= 1 - lowTail) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) / (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log1p(-p));
    x = -(((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

/**
 * log(Φ(b) − Φ(a)) for a < b, accurate in both tails: the smaller tail's difference is taken
 * (upper tail through erfc when a > 0), and where even that underflows, the density at the
 * interval's nearer end times its width.
 */
export function logNormalMass(a: number, b: number): number {
  if (!(b > a)) return -Infinity;
  const mass = a > 0 ? 0.5 * (erfc(a / SQRT2) - erfc(b / SQRT2)) : 0.5 * (erfc(-b / SQRT2) - erfc(-a / SQRT2));
  if (mass > 1e-300) return Math.log(mass);
  const near = a > 0 ? a : -b;
  // Far tail: ∫ φ over [near, near + w] ≈ φ(near)·(1 − e^{−near·w})/near.
  const w = b - a;
  return normalLogPdf(near) + Math.log(-Math.expm1(-near * w)) - Math.log(near);
}

/** A normal N(mu, sigma²) truncated to [low, high] (mu inside or near it). */
export interface TruncatedNormal {
  mu: number;
  sigma: number;
  /** log of the normal's mass in [low, high]. */
  logZ: number;
}

export function truncatedNormal(mu: number, sigma: number, low: number, high: number): TruncatedNormal {
  return { mu, sigma, logZ: logNormalMass((low - mu) / sigma, (high - mu) / sigma) };
}

/** A draw of N(mu, sigma²) conditioned on [low, high], by the inverse CDF. */
export function sampleTruncatedNormal(rng: Rng, mu: number, sigma: number, low: number, high: number): number {
  const pa = normalCdf((low - mu) / sigma);
  const pb = normalCdf((high - mu) / sigma);
  const x = mu + sigma * normalQuantile(pa + rng.next() * (pb - pa));
  return Math.min(high, Math.max(low, Number.isFinite(x) ? x : mu));
}
