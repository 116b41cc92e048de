import { describe, expect, it } from 'vitest';
import { createRng, rngFromState } from './random.ts';

describe('createRng', () => {
  it('is deterministic per (seed, stream) and differs across them', () => {
    const draw = (seed: number, stream?: number) => {
      const r = createRng(seed, stream);
      return Array.from({ length: 5 }, () => r.next());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(draw(1, 0)).not.toEqual(draw(1, 1));
  });
  it('is uniform on [0, 1)', () => {
    const r = createRng(7);
    const xs = Array.from({ length: 20_000 }, () => r.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01); // σ/√n ≈ 0.002
    const u = r.fillUniform(new Float32Array(1000), -0.1, 0.1);
    expect(u.every((v) => v >= -0.1 && v <= 0.1)).toBe(true);
  });
});

describe('rngFromState', () => {
  it('continues the sequence of the generator whose state it took, without touching it', () => {
    const r = createRng(11, 1);
    for (let i = 0; i < 37; i++) r.next();
    const saved = r.state();
    const copy = rngFromState(saved);
    const a = Array.from({ length: 1000 }, () => r.next());
    expect(Array.from({ length: 1000 }, () => copy.next())).toEqual(a);
    expect(Array.from(rngFromState(Array.from(new Int32Array(saved.buffer))).fillUniform(new Float32Array(3), 0, 1))).toEqual(Array.from(Float32Array.from(a.slice(0, 3))));
    expect(() => rngFromState([1, 2, 3])).toThrow(/four 32-bit words/);
    expect(() => rngFromState([1, 2, 3, 2 ** 32])).toThrow(/four 32-bit words/);
  });
  it('keeps createRng reference values', () => {
    expect(createRng(1).next()).toBe(0.5642208976205438);
    expect(createRng(1, 1).next()).toBe(0.1484329397790134);
  });
});
