import { describe, expect, it } from 'vitest';
import { createRng } from './random.ts';

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
