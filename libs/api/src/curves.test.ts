import { describe, expect, it } from 'vitest';
import { apiCurves, thin } from './curves.ts';

describe('apiCurves', () => {
  it('serves a non-finite value as null with nonFinite naming it, and finite points as they are', () => {
    const time = new Date('2030-01-01T00:00:00Z');
    const values = [5, Number.NaN, Infinity, -Infinity, -0.5, 1e-300];
    const curves = [{ attempt: 1, name: 'train_loss', points: values.map((value, step) => ({ step, epoch: step / 10, value, time })) }];
    const out = apiCurves(curves);
    expect(out[0]!.points.map((p) => [p.value, p.nonFinite])).toEqual([
      [5, undefined],
      [null, 'NaN'],
      [null, 'Infinity'],
      [null, '-Infinity'],
      [-0.5, undefined],
      [1e-300, undefined],
    ]);
    expect(out[0]!.points[0]).toEqual({ step: 0, epoch: 0, value: 5, time });
    // What a client reads after JSON: nothing is lost or mistaken for a missing value.
    const wire = JSON.parse(JSON.stringify(out)) as typeof out;
    expect(wire[0]!.points.slice(1, 4)).toEqual([
      { step: 1, epoch: 0.1, value: null, nonFinite: 'NaN', time: time.toISOString() },
      { step: 2, epoch: 0.2, value: null, nonFinite: 'Infinity', time: time.toISOString() },
      { step: 3, epoch: 0.3, value: null, nonFinite: '-Infinity', time: time.toISOString() },
    ]);
    expect(curves[0]!.points[1]!.value).toBeNaN(); // the input is left alone
  });
});

describe('thin', () => {
  const curve = (values: number[]) => values.map((value, step) => ({ step, value }));

  it('keeps the first, the last, each stretch’s lowest and highest, in order, within the number asked', () => {
    // A noisy descent with a spike and a divergence: 100 000 points to at most 500.
    let seed = 7;
    const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const values = Array.from({ length: 100_000 }, (_, i) => 6 * Math.exp(-i / 20_000) + rnd() * 0.3);
    values[31_337] = 40;
    values[77_777] = Number.NaN;
    const pts = curve(values);
    const out = thin(pts, 500);
    expect(out.length).toBeLessThanOrEqual(500);
    expect(out.length).toBeGreaterThan(450);
    expect(out[0]).toBe(pts[0]);
    expect(out.at(-1)).toBe(pts.at(-1));
    for (let i = 1; i < out.length; i++) expect(out[i]!.step).toBeGreaterThan(out[i - 1]!.step);
    const min = pts.reduce((a, p) => (p.value < a.value ? p : a));
    expect(out).toContain(min);
    expect(out).toContain(pts[31_337]);
    expect(out).toContain(pts[77_777]);
  });

  it('leaves a curve that fits alone, and apiCurves says how many points a thinned curve had', () => {
    const pts = curve([3, 1, 2]);
    expect(thin(pts, 4)).toEqual(pts);
    const time = new Date(0);
    const long = [{ attempt: 1, name: 'valid_ppl', points: Array.from({ length: 50 }, (_, step) => ({ step, epoch: 0, value: 50 - step, time })) }];
    const [c] = apiCurves(long, 10);
    expect(c!.points).toHaveLength(10);
    expect(c!.stored).toBe(50);
    expect(c!.points.at(-1)!.value).toBe(1);
    expect(apiCurves(long)[0]!.stored).toBeUndefined();
    expect(apiCurves(long, 50)[0]!.points).toHaveLength(50);
  });
});
