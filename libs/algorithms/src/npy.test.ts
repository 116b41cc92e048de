import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNpy, toNpy } from './npy.ts';

const fixtures: Record<string, string> = JSON.parse(readFileSync(new URL('../scripts/svd-reference.json', import.meta.url), 'utf8')).npy;
const file = (name: string) => new Uint8Array(Buffer.from(fixtures[name]!, 'base64'));
const m = [-0.5, -0.25, 0, 0.25, 0.5, 0.75];

describe('npy', () => {
  it('reads what numpy writes: float32 v1.0, float64 v2.0, vectors', () => {
    const a = parseNpy(file('f4 2x3 v1.0'));
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual(m);
    const b = parseNpy(file('f8 2x3 v2.0'));
    expect(b.data).toBeInstanceOf(Float64Array);
    expect(b.shape).toEqual([2, 3]);
    expect(Array.from(b.data)).toEqual(m);
    const v = parseNpy(file('f8 vector v1.0'));
    expect(v.shape).toEqual([3]);
    expect(Array.from(v.data)).toEqual([1.5, -2.25, 3]);
  });

  it('round-trips float32 and float64, with 64-byte aligned data', () => {
    for (const data of [Float32Array.from(m), Float64Array.from(m)]) {
      const bytes = toNpy(data, [3, 2]);
      expect((bytes.length - data.byteLength) % 64).toBe(0);
      const back = parseNpy(bytes);
      expect(back.shape).toEqual([3, 2]);
      expect(back.data.constructor).toBe(data.constructor);
      expect(Array.from(back.data)).toEqual(m);
    }
    expect(parseNpy(toNpy(Float64Array.of(1, 2), [2])).shape).toEqual([2]);
    // An unaligned input buffer still parses (the data is copied).
    const bytes = toNpy(Float64Array.from(m), [6]);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(Array.from(parseNpy(shifted.subarray(1)).data)).toEqual(m);
    // A Node Buffer from the shared pool (as readFileSync returns for small files).
    const pooled = Buffer.concat([Buffer.from('xyz'), Buffer.from(bytes)]).subarray(3);
    expect(Array.from(parseNpy(pooled).data)).toEqual(m);
  });

  it('refuses Fortran order, other dtypes, big-endian, truncation and non-npy bytes', () => {
    expect(() => parseNpy(file('f8 fortran'), 'A.npy')).toThrow(/A\.npy: Fortran-order \(column-major\) arrays are not supported/);
    expect(() => parseNpy(file('i4'), 'q.npy')).toThrow(/q\.npy: dtype '<i4' is not supported; only float32 \('<f4'\) and float64 \('<f8'\) are/);
    expect(() => parseNpy(file('f4 big-endian'))).toThrow(/big-endian dtype '>f4' is not supported/);
    const ok = file('f8 2x3 v2.0');
    expect(() => parseNpy(ok.subarray(0, ok.length - 8))).toThrow(/truncated data: the header promises 6 values \(48 bytes\), the file has 40 bytes/);
    expect(() => parseNpy(new TextEncoder().encode('hello world, not npy'), 'x')).toThrow(/x: not a \.npy file/);
    expect(() => toNpy(Float32Array.of(1, 2, 3), [2, 2])).toThrow(/data has length 3, shape \[2, 2\] needs 4/);
  });
});
