import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matrix, svd, symmetricEigTop, type Svd } from './svd.ts';
import { expectClose } from './testing.ts';

interface RefCase {
  name: string;
  rows: number;
  cols: number;
  data: number[];
  rank: number;
  S: number[];
  U: number[];
  Vt: number[];
  tailEnergy: number;
  q?: number[];
  weightedError?: number;
}
const reference: { cases: RefCase[] } = JSON.parse(readFileSync(new URL('../scripts/svd-reference.json', import.meta.url), 'utf8'));

/** ‖A − U·diag(S)·Vt‖_F². */
function residual2(a: ArrayLike<number>, m: number, n: number, s: Svd): number {
  let e = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let x = 0;
      for (let c = 0; c < s.rank; c++) x += s.U[i * s.rank + c]! * s.S[c]! * s.Vt[c * n + j]!;
      e += (a[i * n + j]! - x) ** 2;
    }
  }
  return e;
}

/** Max |QᵀQ − I| for Q:[r,k] row-major (columns orthonormal). */
function orthErrorCols(Q: Float64Array, r: number, k: number): number {
  let worst = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let s = 0;
      for (let i = 0; i < r; i++) s += Q[i * k + a]! * Q[i * k + b]!;
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

function randomMatrix(m: number, n: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(m * n);
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) / 4294967296 - 0.5;
  }
  return out;
}

describe('svd', () => {
  for (const c of reference.cases) {
    it(`matches numpy: ${c.name}`, () => {
      const A = matrix(Float64Array.from(c.data), c.rows, c.cols);
      const k = Math.min(c.rows, c.cols);
      const full = svd(A, k);
      // Singular values to 1e-6 relative, down to σ₁·1e-3.5 (the graded case).
      expectClose(full.S, c.S, { rtol: 1e-6, atol: 1e-12 });
      const s = svd(A, c.rank);
      expectClose(s.S, c.S.slice(0, c.rank), { rtol: 1e-6 });
      // Singular vectors up to sign.
      for (let col = 0; col < c.rank; col++) {
        const u = Array.from({ length: c.rows }, (_, i) => s.U[i * c.rank + col]!);
        const ur = Array.from({ length: c.rows }, (_, i) => c.U[i * c.rank + col]!);
        const sign = Math.sign(u.reduce((acc, x, i) => acc + x * ur[i]!, 0));
        expectClose(u.map((x) => sign * x), ur, { atol: 1e-7 });
        const v = Array.from(s.Vt.subarray(col * c.cols, (col + 1) * c.cols));
        expectClose(v.map((x) => sign * x), c.Vt.slice(col * c.cols, (col + 1) * c.cols), { atol: 1e-7 });
      }
      // Eckart–Young: the rank-r error² is the tail energy Σ_{i>r} σᵢ².
      expectClose(residual2(c.data, c.rows, c.cols, s), c.tailEnergy, { rtol: 1e-8, atol: 1e-12 * c.S[0]! ** 2 });
    });
  }

  it('gives orthonormal U and V and Eckart–Young on random shapes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.double({ min: 0, max: 1, noNaN: true }), (m, n, seed, frac) => {
        const a = randomMatrix(m, n, seed);
        const lim = Math.min(m, n);
        const k = Math.max(1, Math.round(frac * lim));
        const all = svd(matrix(a, m, n), lim);
        const s = svd(matrix(a, m, n), k);
        expect(orthErrorCols(s.U, m, k)).toBeLessThan(1e-10);
        // V's rows orthonormal ⇔ Vᵀ (as [n,k]) has orthonormal columns.
        const V = new Float64Array(n * k);
        for (let c = 0; c < k; c++) for (let j = 0; j < n; j++) V[j * k + c] = s.Vt[c * n + j]!;
        expect(orthErrorCols(V, n, k)).toBeLessThan(1e-10);
        for (let c = 1; c < k; c++) expect(s.S[c]!).toBeLessThanOrEqual(s.S[c - 1]! * (1 + 1e-12));
        let tail = 0;
        for (let c = k; c < lim; c++) tail += all.S[c]! ** 2;
        const total = all.S.reduce((x, y) => x + y * y, 0);
        expectClose(residual2(a, m, n, s), tail, { rtol: 1e-6, atol: 1e-10 * total });
      }),
      { numRuns: 60 },
    );
  });

  it('handles a zero matrix and repeated singular values', () => {
    const z = svd(matrix(new Float32Array(12), 4, 3), 2);
    expectClose(z.S, [0, 0]);
    expect(orthErrorCols(z.U, 4, 2)).toBeLessThan(1e-10);
    // 3·I₄ stacked over zeros: four equal singular values.
    const a = new Float64Array(6 * 4);
    for (let i = 0; i < 4; i++) a[i * 4 + i] = 3;
    const s = svd(matrix(a, 6, 4), 3);
    expectClose(s.S, [3, 3, 3], { rtol: 1e-12 });
    expect(orthErrorCols(s.U, 6, 3)).toBeLessThan(1e-10);
    expectClose(residual2(a, 6, 4, s), 9, { rtol: 1e-10 });
  });

  it('refuses bad input, naming the argument', () => {
    expect(() => matrix(new Float64Array(5), 2, 3)).toThrow(/length 5.*2·3/);
    const bad = new Float64Array(6);
    bad[4] = Number.NaN;
    expect(() => svd(matrix(bad, 2, 3), 1)).toThrow(/A has a non-finite entry NaN at row 1, column 1/);
    expect(() => svd(matrix(new Float64Array(6), 2, 3), 3)).toThrow(/rank must be an integer in \[1, min\(rows, cols\) = 2\]/);
    expect(() => svd(matrix(new Float64Array(6), 2, 3), 0)).toThrow(/rank/);
  });
});

describe('symmetricEigTop', () => {
  it('finds the top eigenpairs of a symmetric tridiagonal-hard matrix', () => {
    // The 1-D Laplacian: eigenvalues 2 − 2cos(πj/(n+1)).
    const n = 50;
    const G = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      G[i * n + i] = 2;
      if (i > 0) G[i * n + i - 1] = G[(i - 1) * n + i] = -1;
    }
    const { values, vectors } = symmetricEigTop(G.slice(), n, 5);
    expectClose(values, Array.from({ length: 5 }, (_, j) => 2 - 2 * Math.cos((Math.PI * (n - j)) / (n + 1))), { rtol: 1e-12 });
    expect(orthErrorCols(vectors, n, 5)).toBeLessThan(1e-10);
    for (let c = 0; c < 5; c++) {
      for (let i = 0; i < n; i++) {
        let gx = 0;
        for (let j = 0; j < n; j++) gx += G[i * n + j]! * vectors[j * 5 + c]!;
        expect(Math.abs(gx - values[c]! * vectors[i * 5 + c]!)).toBeLessThan(1e-10);
      }
    }
  });
});
