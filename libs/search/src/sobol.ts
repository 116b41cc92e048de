// Sobol' low-discrepancy points (Gray-code order, 32-bit), from Joe & Kuo's direction numbers
// (sobol-directions.ts), optionally scrambled: a random linear matrix scramble of every
// dimension's direction numbers and a random digital shift (Matoušek 1998), drawn from a seed.
import { Rng } from './rng.ts';
import { SOBOL_DIRECTIONS } from './sobol-directions.ts';

const BITS = 32;

/** The most dimensions the table holds. */
export const MAX_SOBOL_DIMS = SOBOL_DIRECTIONS.length + 1;

/** Direction numbers v_1..v_32 of dimension j (0-based) as 32-bit integers, v_k's first digit at bit 31. */
function directions(j: number): Uint32Array {
  const v = new Uint32Array(BITS);
  if (j === 0) {
    for (let k = 0; k < BITS; k++) v[k] = 2 ** (BITS - 1 - k);
    return v;
  }
  const row = SOBOL_DIRECTIONS[j - 1]!;
  const s = row[0]!;
  const a = row[1]!;
  for (let k = 0; k < s; k++) v[k] = row[2 + k]! * 2 ** (BITS - 1 - k);
  for (let k = s; k < BITS; k++) {
    let x = v[k - s]! ^ (v[k - s]! >>> s);
    for (let i = 1; i < s; i++) if ((a >>> (s - 1 - i)) & 1) x ^= v[k - i]!;
    v[k] = x >>> 0;
  }
  return v;
}

function parity(x: number): number {
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1;
}

/** y = L·v over GF(2), L lower triangular with unit diagonal, given as one 32-bit row mask per digit (digit 0 = bit 31). */
function applyLower(rows: Uint32Array, v: number): number {
  let y = 0;
  for (let i = 0; i < BITS; i++) if (parity(rows[i]! & v)) y |= 1 << (BITS - 1 - i);
  return y >>> 0;
}

export class Sobol {
  readonly dims: number;
  private readonly v: Uint32Array[];
  private readonly shift: Uint32Array;

  /** The first `dims` dimensions; scrambled from `seed`, or plain (the published points) when seed is null. */
  constructor(dims: number, seed: number | null) {
    if (!Number.isInteger(dims) || dims < 1 || dims > MAX_SOBOL_DIMS) throw new Error(`Sobol: dims must be 1..${MAX_SOBOL_DIMS}, got ${dims}`);
    this.dims = dims;
    this.v = Array.from({ length: dims }, (_, j) => directions(j));
    this.shift = new Uint32Array(dims);
    if (seed === null) return;
    const rng = new Rng(seed);
    for (let j = 0; j < dims; j++) {
      const rows = new Uint32Array(BITS);
      for (let i = 0; i < BITS; i++) {
        // Digit i depends on digits 0..i: random bits above its own, its own set.
        const above = i === 0 ? 0 : (rng.uint32() >>> (BITS - i)) << (BITS - i);
        rows[i] = (above | (1 << (BITS - 1 - i))) >>> 0;
      }
      const vj = this.v[j]!;
      for (let k = 0; k < BITS; k++) vj[k] = applyLower(rows, vj[k]!);
      this.shift[j] = rng.uint32();
    }
  }

  /** Point n (0-based, n < 2^32) in [0, 1)^dims. */
  point(n: number): Float64Array {
    if (!Number.isInteger(n) || n < 0 || n >= 2 ** BITS) throw new Error(`Sobol: index must be an integer in [0, 2^32), got ${n}`);
    const gray = (n ^ (n >>> 1)) >>> 0;
    const out = new Float64Array(this.dims);
    for (let j = 0; j < this.dims; j++) {
      const vj = this.v[j]!;
      let x = this.shift[j]!;
      for (let k = 0, g = gray; g !== 0; k++, g >>>= 1) if (g & 1) x ^= vj[k]!;
      out[j] = (x >>> 0) / 2 ** BITS;
    }
    return out;
  }
}
