// Tolerance checks for numerical tests; throws a plain Error so it works under any test runner.

export interface Tolerance {
  /** Relative tolerance, scaled by |expected|. */
  rtol?: number;
  /** Absolute tolerance. */
  atol?: number;
}

const isClose = (a: number, e: number, rtol: number, atol: number) =>
  Number.isNaN(e) ? Number.isNaN(a) : a === e || (Number.isFinite(e) && Math.abs(a - e) <= atol + rtol * Math.abs(e));

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise (defaults rtol 1e-7, atol 0).
 * NaN matches only NaN; infinities match only themselves. Arrays must have equal length.
 * Throws an Error naming the worst mismatches.
 */
export function expectClose(actual: number | ArrayLike<number>, expected: number | ArrayLike<number>, tol: Tolerance = {}): void {
  const rtol = tol.rtol ?? 1e-7;
  const atol = tol.atol ?? 0;
  const scalar = typeof actual === 'number' && typeof expected === 'number';
  const a: ArrayLike<number> = typeof actual === 'number' ? [actual] : actual;
  const e: ArrayLike<number> = typeof expected === 'number' ? [expected] : expected;
  if (typeof actual === 'number' !== (typeof expected === 'number') || a.length !== e.length) {
    throw new Error(`expectClose: shape mismatch: actual has ${typeof actual === 'number' ? 'a scalar' : `length ${a.length}`}, expected ${typeof expected === 'number' ? 'a scalar' : `length ${e.length}`}`);
  }
  const bad: { i: number; a: number; e: number; err: number }[] = [];
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    const ei = e[i]!;
    if (!isClose(ai, ei, rtol, atol)) bad.push({ i, a: ai, e: ei, err: Math.abs(ai - ei) });
  }
  if (bad.length === 0) return;
  bad.sort((p, q) => (Number.isNaN(q.err) ? 1 : Number.isNaN(p.err) ? -1 : q.err - p.err));
  const show = bad.slice(0, 5).map((b) => `${scalar ? '' : `[${b.i}] `}actual ${b.a}, expected ${b.e} (|diff| ${b.err.toExponential(3)}, allowed ${(atol + rtol * Math.abs(b.e)).toExponential(3)})`);
  throw new Error(`expectClose (rtol ${rtol}, atol ${atol}): ${bad.length} of ${a.length} value${a.length === 1 ? '' : 's'} differ: ${show.join('; ')}`);
}
