import { describe, expect, it } from 'vitest';
import { expectClose } from '@lmsweep/algorithms';
import { ParzenEstimator, type ParzenOptions, scottBandwidth } from './parzen.ts';
import { Rng } from './rng.ts';
import { compileSpace, fromUnit, type Point } from './space.ts';

const opts: ParzenOptions = { priorWeight: 1, bandwidth: scottBandwidth(1, 0.1), categoricalSmoothing: 0.6 };

/** Every point of a discrete conditional space: kind a or b; z (only with b) an integer 0..6 step 2; c one of three. */
function allPoints(): Point[] {
  const out: Point[] = [];
  for (const c of ['x', 'y', 'z']) {
    out.push({ kind: 'a', c });
    for (const z of [0, 2, 4, 6]) out.push({ kind: 'b', z, c });
  }
  return out;
}
const discrete = compileSpace({ kind: ['a', 'b'], z: { int: [0, 6], step: 2, when: { kind: 'b' } }, c: ['x', 'y', 'z'] });
const observed: Point[] = [{ kind: 'b', z: 2, c: 'y' }, { kind: 'a', c: 'x' }, { kind: 'b', z: 6, c: 'y' }, { kind: 'b', z: 2, c: 'z' }];

describe('Parzen estimator over a conditional space', () => {
  it('its density integrates to 1 over a continuous parameter (per unit coordinate), log-scaled too', () => {
    for (const spec of [{ x: { uniform: [-3, 7] as [number, number] } }, { x: { log_uniform: [0.001, 10] as [number, number] } }]) {
      const space = compileSpace(spec);
      const est = new ParzenEstimator(space, [0.01, 0.02, 0.5, 5].map((x) => ({ x })), [1, 1, 1, 2], opts);
      const steps = 20_000;
      let total = 0;
      for (let i = 0; i < steps; i++) total += Math.exp(est.logDensity({ x: fromUnit(space.params[0]!, (i + 0.5) / steps) })) / steps;
      expectClose(total, 1, { rtol: 1e-4 });
    }
  });

  it('its masses over every point of a discrete conditional space sum to 1, with its own marginals or given ones', () => {
    const own = new ParzenEstimator(discrete, observed, [1, 1, 1, 1], opts);
    expectClose(allPoints().reduce((s, p) => s + Math.exp(own.logDensity(p)), 0), 1, { rtol: 1e-6 });
    const given = new ParzenEstimator(discrete, observed, [1, 2, 1, 1], opts, new Map([['z', { values: [4, 4, 0], weights: [1, 1, 1] }]]));
    expectClose(allPoints().reduce((s, p) => s + Math.exp(given.logDensity(p)), 0), 1, { rtol: 1e-6 });
  });

  it('draws points with the frequencies its density gives, inactive parameters absent', () => {
    const est = new ParzenEstimator(discrete, observed, [1, 1, 1, 1], opts, new Map([['z', { values: [4], weights: [1] }]]));
    const rng = new Rng(11);
    const n = 40_000;
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const p = est.sample(rng);
      if (p['kind'] === 'a') expect(Object.hasOwn(p, 'z')).toBe(false);
      const key = JSON.stringify(p);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const p of allPoints()) {
      const prob = Math.exp(est.logDensity(p));
      const freq = (counts.get(JSON.stringify(p)) ?? 0) / n;
      // Five standard errors of a binomial frequency.
      expect(Math.abs(freq - prob), JSON.stringify(p)).toBeLessThan(5 * Math.sqrt((prob * (1 - prob)) / n) + 1e-4);
    }
  });

  it('puts more mass near its observations than the prior does', () => {
    const space = compileSpace({ x: { uniform: [0, 1] } });
    const est = new ParzenEstimator(space, [{ x: 0.2 }, { x: 0.22 }, { x: 0.25 }], [1, 1, 1], opts);
    expect(est.logDensity({ x: 0.22 })).toBeGreaterThan(est.logDensity({ x: 0.8 }) + 1);
  });
});
