import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { table } from './format.ts';
import { displayWidth, safeText, truncateToWidth } from './terminal-text.ts';

/** Anything a terminal would act on instead of print: C0 (ESC, BEL, CR, BS, …), DEL, C1, bidi controls, separators. */
const DANGEROUS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const HOSTILE = [
  '\x1b[31mred\x1b[0m', // colour
  '\x1b]0;pwned\x07', // window title (OSC)
  '\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\', // hyperlink
  'ok\rFAKE', // carriage return overwrites the line
  'a\x08\x08b', // backspaces
  '\x9b31m', // 8-bit CSI
  'evil\u202egpj.exe', // right-to-left override: shows "exe.jpg"
  '\u2067isolate\u2069', // right-to-left isolate
  '\u200fmark\u200e',
  'line\u2028sep',
  'two\nlines\tand tab',
];

describe('safeText', () => {
  it('makes every escape, control and bidi character visible', () => {
    expect(safeText('\x1b[31mred\x1b[0m')).toBe('\\u001b[31mred\\u001b[0m');
    expect(safeText('ok\rFAKE')).toBe('ok\\rFAKE');
    expect(safeText('evil\u202egpj.exe')).toBe('evil\\u202egpj.exe');
    expect(safeText('\x9b31m')).toBe('\\u009b31m');
    expect(safeText('two\nlines\tand tab')).toBe('two\\nlines\\tand tab');
    expect(safeText('two\nlines', { multiline: true })).toBe('two\nlines');
    for (const s of HOSTILE) {
      expect(safeText(s)).not.toMatch(DANGEROUS);
      expect(safeText(s)).not.toMatch(/\n/);
      expect(safeText(s, { multiline: true })).not.toMatch(DANGEROUS);
    }
  });

  it('leaves ordinary text alone, including non-Latin scripts and emoji', () => {
    for (const s of ['groupreduce rate 4, 10 blocks', 'perplexité ±0.7 ×3', 'שלום עולם', 'مرحبا', '训练 👩‍🔬']) expect(safeText(s)).toBe(s);
  });

  it('keeps JSON valid and equal: escapes are JSON escapes (property, any string)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const v = { a, b, list: [a + b] };
        const line = safeText(JSON.stringify(v));
        expect(line).not.toMatch(DANGEROUS);
        expect(JSON.parse(line)).toEqual(v);
      }),
      { numRuns: 300 },
    );
  });

  it('table cells: hostile names cannot colour, move the cursor or break a row', () => {
    const out = table(['name', 'host'], HOSTILE.map((h, i) => [h, `host-${i}`]));
    expect(out).not.toMatch(DANGEROUS);
    expect(out.split('\n')).toHaveLength(HOSTILE.length + 2);
    // Every row as wide as the header rule: aligned in terminal columns.
    const lines = out.split('\n');
    for (const l of lines.slice(2)) expect(l).toMatch(/ {2}host-\d+$/);
    const col = lines.slice(2).map((l) => displayWidth(l.slice(0, l.lastIndexOf('host-'))));
    expect(new Set(col).size).toBe(1);
  });
});

describe('displayWidth / truncateToWidth', () => {
  it('counts terminal columns: wide CJK as 2, combining marks as 0', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('训练')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(truncateToWidth('groupreduce rate 4, 10 blocks', 12)).toBe('groupreduce…');
    expect(displayWidth(truncateToWidth('训练训练训练', 7))).toBeLessThanOrEqual(7);
    expect(truncateToWidth('short', 10)).toBe('short');
  });
});
