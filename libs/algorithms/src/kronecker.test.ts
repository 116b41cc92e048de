import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPhmShape, kron, type KronShape, phmMaterialize, phmParamCount } from './kronecker.ts';
import { expectClose } from './testing.ts';

/** A:[m, k] · B:[k, n] → [m, n] in float64 (a reference, not fast). */
function matmul(a: ArrayLike<number>, [m, k]: KronShape, b: ArrayLike<number>, [k2, n]: KronShape): Float64Array {
  if (k !== k2) throw new RangeError(`matmul: inner sizes differ: A is [${m}, ${k}], B is [${k2}, ${n}]`);
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < k; t++) {
      const ait = a[i * k + t]!;
      if (ait === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += ait * b[t * n + j]!;
    }
  }
  return out;
}

/** A:[m, n] → Aᵀ:[n, m]. */
function transpose(a: ArrayLike<number>, [m, n]: KronShape): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j]!;
  return out;
}

// Entries in [−10, 10]: the identities hold up to float64 rounding of the sums, so rtol 1e-12,
// atol 1e-12 (the mixed product sums more terms: rtol 1e-10, atol 1e-9).
const TOL = { rtol: 1e-12, atol: 1e-12 };
const dim = fc.integer({ min: 1, max: 4 });
const matrix = (r: number, c: number) => fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: r * c, maxLength: r * c });

describe('kron', () => {
  it('matches a hand-worked example', () => {
    // [1 2] ⊗ [0 1; 1 0] = [0 1 0 2; 1 0 2 0]
    expect(Array.from(kron([1, 2], [1, 2], [0, 1, 1, 0], [2, 2]))).toEqual([0, 1, 0, 2, 1, 0, 2, 0]);
    expect(() => kron([1, 2, 3], [1, 2], [1], [1, 1])).toThrow(/3 values for shape \[1, 2\]/);
  });

  it('(A⊗B)ᵀ = Aᵀ⊗Bᵀ', () => {
    fc.assert(
      fc.property(dim, dim, dim, dim, (p, q, r, s) =>
        fc.assert(
          fc.property(matrix(p, q), matrix(r, s), (a, b) => {
            expectClose(transpose(kron(a, [p, q], b, [r, s]), [p * r, q * s]), kron(transpose(a, [p, q]), [q, p], transpose(b, [r, s]), [s, r]), TOL);
          }),
          { numRuns: 5 },
        ),
      ),
      { numRuns: 40 },
    );
  });

  it('mixed product: (A⊗B)(C⊗D) = AC ⊗ BD', () => {
    fc.assert(
      fc.property(fc.tuple(dim, dim, dim, dim, dim, dim), ([p, q, r, s, t, u]) =>
        fc.assert(
          fc.property(matrix(p, q), matrix(r, s), matrix(q, t), matrix(s, u), (a, b, c, d) => {
            const left = matmul(kron(a, [p, q], b, [r, s]), [p * r, q * s], kron(c, [q, t], d, [s, u]), [q * s, t * u]);
            const right = kron(matmul(a, [p, q], c, [q, t]), [p, t], matmul(b, [r, s], d, [s, u]), [r, u]);
            expectClose(left, right, { rtol: 1e-10, atol: 1e-9 });
          }),
          { numRuns: 3 },
        ),
      ),
      { numRuns: 40 },
    );
  });
});

describe('phmMaterialize', () => {
  it('sums the Kronecker terms in the documented layout', () => {
    // n = 2, d = 4, k = 2: A₀ = I, A₁ = [0 1; 1 0]; S₀ = [1; 2], S₁ = [3; 4] (each [2, 1])
    const a = [1, 0, 0, 1, 0, 1, 1, 0];
    const s = [1, 2, 3, 4];
    // W = I⊗S₀ + J⊗S₁ = [[1,3],[2,4],[3,1],[4,2]]
    expect(Array.from(phmMaterialize(a, s, { d: 4, k: 2, n: 2 }))).toEqual([1, 3, 2, 4, 3, 1, 4, 2]);
  });

  it('with n = 1 is A₀·S₀ (a scaled dense matrix)', () => {
    const s = [1, -2, 3, 0.5, 4, 6];
    expectClose(phmMaterialize([2], s, { d: 2, k: 3, n: 1 }), s.map((v) => 2 * v), TOL);
  });

  it('matches the entry formula W[a·p+b, c·q+e] = Σᵢ Aᵢ[a,c]·Sᵢ[b,e]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), (n, p, q) => {
        const d = n * p;
        const k = n * q;
        const a = Array.from({ length: n ** 3 }, (_, i) => Math.sin(i + 1));
        const s = Array.from({ length: n * p * q }, (_, i) => Math.cos(2 * i + 1));
        const w = phmMaterialize(a, s, { d, k, n });
        for (let row = 0; row < d; row++) {
          for (let col = 0; col < k; col++) {
            const [ai, b, c, e] = [Math.floor(row / p), row % p, Math.floor(col / q), col % q];
            let ref = 0;
            for (let i = 0; i < n; i++) ref += a[i * n * n + ai * n + c]! * s[i * p * q + b * q + e]!;
            expectClose(w[row * k + col]!, ref, TOL);
          }
        }
      }),
      { numRuns: 50 },
    );
  });

  it('counts parameters exactly and refuses an n that does not divide the sizes', () => {
    expect(phmParamCount(800, 800, 4)).toBe(160_000 + 64);
    expect(phmParamCount(200, 800, 8)).toBe(20_000 + 512);
    expect(phmParamCount(6, 3, 1)).toBe(19);
    expect(() => phmParamCount(64, 200, 3)).toThrow(/n=3 does not divide input size d=64 or output size k=200/);
    expect(() => checkPhmShape({ d: 64, k: 30, n: 4 }, 'lstm.0.ih')).toThrow(/^lstm\.0\.ih: n=4 does not divide output size k=30$/);
    expect(() => checkPhmShape({ d: 8, k: 8, n: 0 })).toThrow(/not a positive integer/);
    expect(() => phmMaterialize([1], [1, 2], { d: 2, k: 2, n: 1 })).toThrow(/S has 2 values/);
  });
});
