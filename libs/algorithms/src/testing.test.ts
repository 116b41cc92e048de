import { describe, expect, it } from 'vitest';
import { expectClose } from './testing.ts';

describe('expectClose', () => {
  it('passes within atol + rtol·|expected|', () => {
    expectClose(1.0001, 1, { rtol: 1e-3 });
    expectClose([0, 1e-9], [1e-12, 0], { atol: 1e-8 });
    expectClose(new Float32Array([NaN, Infinity]), [NaN, Infinity]);
  });
  it('throws naming the mismatch', () => {
    expect(() => expectClose([1, 2, 3], [1, 2.5, 3], { rtol: 1e-3 })).toThrow(/1 of 3 values differ: \[1\] actual 2, expected 2.5/);
    expect(() => expectClose([1], [1, 2])).toThrow(/shape mismatch/);
    expect(() => expectClose(NaN, 0, { atol: 1 })).toThrow(/actual NaN/);
    expect(() => expectClose(-Infinity, Infinity)).toThrow();
  });
});
