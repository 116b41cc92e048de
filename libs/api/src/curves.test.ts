import { describe, expect, it } from 'vitest';
import { apiCurves } from './curves.ts';

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
