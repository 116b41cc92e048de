// Kronecker products and the PHM (parameterized hypercomplex multiplication) weight algebra on
// row-major typed arrays: the reference every tfjs PHM path is tested against.
//
// Orientation. A dense layer here is y = x·W with x:[B, d] and W:[d, k] (as tfjs layers store
// it). A PHM layer of n parts stores A:[n, n, n] (Aᵢ = A[i] is n×n) and S:[n, d/n, k/n] and
//   W = Σᵢ Aᵢ ⊗ Sᵢ : [d, k],   W[a·(d/n) + b, c·(k/n) + e] = Σᵢ Aᵢ[a, c] · Sᵢ[b, e].
// Zhang et al. (ICLR 2021) write y = H·x with H:[k, d] = Σᵢ Aᵢ ⊗ Sᵢ; ours is W = Hᵀ, i.e. their
// Aᵢ, Sᵢ transposed ((A⊗S)ᵀ = Aᵀ⊗Sᵀ): the same family of matrices, the same parameter count.

export type KronShape = readonly [rows: number, cols: number];

function checkMatrix(name: string, m: ArrayLike<number>, [r, c]: KronShape): void {
  if (!(Number.isInteger(r) && Number.isInteger(c) && r >= 1 && c >= 1)) throw new RangeError(`${name}: shape [${r}, ${c}] is not a pair of positive integers`);
  if (m.length !== r * c) throw new RangeError(`${name}: ${m.length} values for shape [${r}, ${c}]`);
}

/** Kronecker product A:[p, q] ⊗ B:[r, s] → [p·r, q·s]: (A⊗B)[i·r + k, j·s + l] = A[i, j]·B[k, l]. */
export function kron(a: ArrayLike<number>, aShape: KronShape, b: ArrayLike<number>, bShape: KronShape): Float64Array {
  checkMatrix('kron A', a, aShape);
  checkMatrix('kron B', b, bShape);
  const [p, q] = aShape;
  const [r, s] = bShape;
  const cols = q * s;
  const out = new Float64Array(p * r * cols);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < q; j++) {
      const aij = a[i * q + j]!;
      if (aij === 0) continue;
      for (let k = 0; k < r; k++) {
        const row = (i * r + k) * cols + j * s;
        for (let l = 0; l < s; l++) out[row + l] = aij * b[k * s + l]!;
      }
    }
  }
  return out;
}

export interface PhmShape {
  /** Input width d (rows of W). */
  d: number;
  /** Output width k (columns of W). */
  k: number;
  /** Number of Kronecker terms; must divide d and k. */
  n: number;
}

/** Throws a RangeError naming the sizes when n is not a positive integer dividing both d and k. */
export function checkPhmShape({ d, k, n }: PhmShape, what = 'PHM layer'): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`${what}: n=${n} is not a positive integer`);
  if (!(Number.isInteger(d) && d >= 1 && Number.isInteger(k) && k >= 1)) throw new RangeError(`${what}: sizes d=${d}, k=${k} are not positive integers`);
  const bad = [d % n !== 0 ? `input size d=${d}` : '', k % n !== 0 ? `output size k=${k}` : ''].filter(Boolean);
  if (bad.length) throw new RangeError(`${what}: n=${n} does not divide ${bad.join(' or ')}`);
}

/** Exact parameter count of a PHM weight (no bias): n Aᵢ of n×n plus n Sᵢ of (d/n)×(k/n) = d·k/n + n³. */
export function phmParamCount(d: number, k: number, n: number): number {
  checkPhmShape({ d, k, n });
  return (d * k) / n + n ** 3;
}

/**
 * W = Σᵢ Aᵢ ⊗ Sᵢ in float64. a:[n, n, n] (Aᵢ = a[i]), s:[n, d/n, k/n] (Sᵢ = s[i]), both flat
 * row-major → W:[d, k], used as y = x·W for x:[B, d]. Costs n·d·k multiply-adds.
 */
export function phmMaterialize(a: ArrayLike<number>, s: ArrayLike<number>, shape: PhmShape): Float64Array {
  checkPhmShape(shape, 'phmMaterialize');
  const { d, k, n } = shape;
  const p = d / n;
  const q = k / n;
  if (a.length !== n * n * n) throw new RangeError(`phmMaterialize: A has ${a.length} values, expected n³ = ${n ** 3}`);
  if (s.length !== n * p * q) throw new RangeError(`phmMaterialize: S has ${s.length} values, expected n·(d/n)·(k/n) = ${n * p * q}`);
  const w = new Float64Array(d * k);
  for (let i = 0; i < n; i++) {
    const term = kron(sub(a, i * n * n, n * n), [n, n], sub(s, i * p * q, p * q), [p, q]);
    for (let j = 0; j < w.length; j++) w[j]! += term[j]!;
  }
  return w;
}

function sub(x: ArrayLike<number>, start: number, length: number): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = x[start + i]!;
  return out;
}
