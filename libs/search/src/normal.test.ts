import { describe, expect, it } from 'vitest';
import { expectClose } from '@lmsweep/algorithms';
import { erfc, logNormalMass, normalCdf, normalQuantile, sampleTruncatedNormal } from './normal.ts';
import { Rng } from './rng.ts';

describe('normal distribution helpers', () => {
  it('erfc and Φ against reference values (relative error under 1.2e-7)', () => {
    // erfc at 0, 0.5, 1, 2, 3, 5, −1 (Abramowitz & Stegun, Table 7.1; erfc(5) = 1.5375e-12).
    expectClose([0, 0.5, 1, 2, 3, 5, -1].map(erfc), [1, 0.4795001221869535, 0.15729920705028513, 0.004677734981047266, 2.209049699858544e-5, 1.5374597944280349e-12, 1.8427007929497148], { rtol: 2e-7 });
    expectClose(normalCdf(1.959963984540054), 0.975, { rtol: 2e-7 });
  });

  it('Φ⁻¹ inverts Φ', () => {
    for (const z of [-8, -3, -1.5, -0.1, 0, 0.7, 2.5, 6]) expectClose(normalQuantile(normalCdf(z)), z, { rtol: 1e-6, atol: 1e-6 });
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });

  it('log mass of an interval, in the tails too', () => {
    expectClose(logNormalMass(-1, 1), Math.log(0.6826894921370859), { rtol: 1e-6 });
    expectClose(logNormalMass(3, 4), Math.log(0.0013182267897969), { rtol: 1e-5 });
    expectClose(logNormalMass(-4, -3), Math.log(0.0013182267897969), { rtol: 1e-5 });
    // Far out, where Φ differences underflow: ≈ log(φ(40)/40) (Mills ratio, relative error ~1/40²).
    const far = -800 - 0.5 * Math.log(2 * Math.PI) - Math.log(40);
    expectClose(logNormalMass(40, 41), far, { rtol: 1e-5 });
    expect(logNormalMass(1, 1)).toBe(-Infinity);
  });

  it('truncated draws stay in the interval and have the truncated mean', () => {
    const rng = new Rng(3);
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const x = sampleTruncatedNormal(rng, 0, 1, 0, Infinity);
      expect(x).toBeGreaterThanOrEqual(0);
      sum += x;
    }
    // The half-normal's mean √(2/π) = 0.7979; its standard error here 0.6/√n ≈ 0.004.
    expectClose(sum / n, Math.sqrt(2 / Math.PI), { atol: 0.02 });
    for (let i = 0; i < 1000; i++) {
      const y = sampleTruncatedNormal(rng, 0.9, 0.01, 0, 1);
      expect(y >= 0 && y <= 1).toBe(true);
    }
  });
});
