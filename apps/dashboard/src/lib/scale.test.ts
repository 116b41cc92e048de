import { describe, expect, it } from 'vitest';
import { linearScale, logScale } from './scale';

describe('scales', () => {
  it('invert takes a position back to its value, linear and log', () => {
    const lin = linearScale(3, 97, [300, 20], 5);
    const log = logScale(0.001, 1, [40, 640]);
    for (const v of [0, 3, 41.5, 97, 100]) expect(lin.invert(lin(v))).toBeCloseTo(v, 9);
    for (const v of [0.001, 0.0316, 0.5, 1]) expect(log.invert(log(v)) / v).toBeCloseTo(1, 9);
  });
});
