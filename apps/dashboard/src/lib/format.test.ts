import { describe, expect, it } from 'vitest';
import { formatAgo, formatCount, formatDuration, formatPpl, formatPplCI, formatRatio } from './format';
import { shortNames } from '@lmsweep/protocol/labels';
import { getPath } from './config';
import { linearScale, logScale } from './scale';

describe('format', () => {
  it('counts parameters with three significant digits', () => {
    expect(formatCount(950)).toBe('950');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(99_960)).toBe('100k');
    expect(formatCount(999_999)).toBe('1.00M');
    expect(formatCount(1_234_567)).toBe('1.23M');
    expect(formatCount(null)).toBe('—');
  });
  it('perplexity to one decimal, divergence spelled out', () => {
    expect(formatPpl(123.456)).toBe('123.5');
    expect(formatPpl(Number.POSITIVE_INFINITY)).toBe('∞');
    expect(formatPpl(Number.NaN)).toBe('NaN');
    expect(formatPplCI(100, 2.345)).toBe('100.0 ± 2.3');
    expect(formatPplCI(100, 0)).toBe('100.0');
  });
  it('ratios, durations, ages', () => {
    expect(formatRatio(1)).toBe('1×');
    expect(formatRatio(4)).toBe('4.00×');
    expect(formatDuration(0.25)).toBe('250 ms');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(185)).toBe('3m 05s');
    expect(formatAgo(1_000, 4_000)).toBe('3 s ago');
    expect(formatAgo(0, 125_000)).toBe('2 min ago');
  });
});

describe('config', () => {
  it('reads a dotted path through own properties only; column names are short unless they clash', () => {
    const a = { method: 'dense', model: { hidden: 8, layers: 1 }, training: { lr: 1 } };
    expect(getPath(a, 'model.hidden')).toBe(8);
    expect(getPath(a, 'model.width')).toBeUndefined();
    expect(getPath(a, 'model.constructor')).toBeUndefined();
    expect(getPath(a, '__proto__.toString')).toBeUndefined();
    const names = shortNames(['model.hidden', 'model.dropout', 'training.dropout']);
    expect([...names.values()]).toEqual(['hidden', 'model.dropout', 'training.dropout']);
  });
});

describe('scales', () => {
  it('linear ticks are round and cover the data', () => {
    const s = linearScale(3, 97, [0, 100]);
    expect(s.ticks).toEqual([0, 20, 40, 60, 80, 100]);
    expect(s(0)).toBe(0);
    expect(s(100)).toBe(100);
  });
  it('log ticks at 1-2-5 over a few decades', () => {
    const s = logScale(2_000, 900_000, [0, 100]);
    expect(s.ticks).toContain(10_000);
    expect(s.ticks).toContain(100_000);
    expect(s.ticks.every((t) => t >= s.domain[0] * 0.999 && t <= s.domain[1] * 1.001)).toBe(true);
    expect(s(s.domain[0])).toBeCloseTo(0);
  });
});

describe('ticks', () => {
  it('drop trailing zeros', async () => {
    const { formatTick } = await import('./format');
    expect(formatTick(8000)).toBe('8k');
    expect(formatTick(12_500)).toBe('12.5k');
    expect(formatTick(1_000_000)).toBe('1M');
    expect(formatTick(1_500_000)).toBe('1.5M');
    expect(formatTick(300)).toBe('300');
  });
});
