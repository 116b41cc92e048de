import { describe, expect, it } from 'vitest';
import { MAX_SOBOL_DIMS, Sobol } from './sobol.ts';

describe('Sobol points', () => {
  it("unscrambled: the published first points of Joe & Kuo's sequence (Gray-code order; SciPy's qmc.Sobol(scramble=False) gives the same)", () => {
    const s = new Sobol(5, null);
    const first = [
      [0, 0, 0, 0, 0],
      [0.5, 0.5, 0.5, 0.5, 0.5],
      [0.75, 0.25, 0.25, 0.25, 0.75],
      [0.25, 0.75, 0.75, 0.75, 0.25],
      [0.375, 0.375, 0.625, 0.875, 0.375],
      [0.875, 0.875, 0.125, 0.375, 0.875],
      [0.625, 0.125, 0.875, 0.625, 0.625],
      [0.125, 0.625, 0.375, 0.125, 0.125],
    ];
    first.forEach((row, n) => expect(Array.from(s.point(n))).toEqual(row));
    // Later points in far dimensions (1, 10, 32, 64): exact dyadic fractions.
    const far = new Sobol(64, null);
    const at = (n: number) => [0, 9, 31, 63].map((j) => far.point(n)[j]);
    expect(at(9)).toEqual([0.6875, 0.8125, 0.3125, 0.1875]);
    expect(at(100)).toEqual([0.4140625, 0.6953125, 0.4140625, 0.6484375]);
    expect(at(1023)).toEqual([0.0009765625, 0.8505859375, 0.6142578125, 0.0400390625]);
    expect(at(4097)).toEqual([0.5003662109375, 0.4947509765625, 0.8577880859375, 0.9456787109375]);
  });

  it('scrambled: the first 2^k points keep one point per interval of width 2^-k in every dimension, and per square of area 2^-k in the first two', () => {
    for (const seed of [1, 7, 12345]) {
      const s = new Sobol(12, seed);
      for (const k of [3, 6, 8]) {
        const m = 2 ** k;
        const pts = Array.from({ length: m }, (_, n) => s.point(n));
        for (let j = 0; j < 12; j++) expect(new Set(pts.map((p) => Math.floor(p[j]! * m))).size).toBe(m);
        // (0, k, 2)-net: boxes of 2^a × 2^(k−a) cells each hold one point.
        for (let a = 0; a <= k; a++) {
          const boxes = new Set(pts.map((p) => `${Math.floor(p[0]! * 2 ** a)},${Math.floor(p[1]! * 2 ** (k - a))}`));
          expect(boxes.size).toBe(m);
        }
      }
      for (let n = 0; n < 300; n++) for (const x of s.point(n)) expect(x >= 0 && x < 1).toBe(true);
    }
  });

  it('the same seed gives the same points, another seed others', () => {
    expect(Array.from(new Sobol(4, 3).point(17))).toEqual(Array.from(new Sobol(4, 3).point(17)));
    expect(Array.from(new Sobol(4, 3).point(17))).not.toEqual(Array.from(new Sobol(4, 4).point(17)));
    expect(Array.from(new Sobol(4, 3).point(0))).not.toEqual([0, 0, 0, 0]);
  });

  it('refuses dimensions and indices it does not have', () => {
    expect(() => new Sobol(0, null)).toThrow(/dims/);
    expect(() => new Sobol(MAX_SOBOL_DIMS + 1, null)).toThrow(/dims/);
    expect(() => new Sobol(2, null).point(-1)).toThrow(/index/);
    expect(() => new Sobol(2, null).point(2 ** 32)).toThrow(/index/);
  });
});
