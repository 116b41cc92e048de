import { describe, expect, it } from 'vitest';
import { gridValues } from './grid-values';

describe('gridValues', () => {
  it('reads numbers, booleans and strings as a spec would, dropping empty ones', () => {
    expect(gridValues('96, 128,, 1e-3 ,.5')).toEqual([96, 128, 0.001, 0.5]);
    expect(gridValues('true,false')).toEqual([true, false]);
    expect(gridValues(' svd , groupreduce ,12a')).toEqual(['svd', 'groupreduce', '12a']);
    expect(gridValues(' , ')).toEqual([]);
  });
});
