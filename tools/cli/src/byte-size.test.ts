import { describe, expect, it } from 'vitest';
import { parseByteSize } from './byte-size.ts';

describe('parseByteSize', () => {
  it('bytes, binary units with or without i, SI units with B', () => {
    expect(parseByteSize('1000')).toBe(1000);
    expect(parseByteSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseByteSize('4G')).toBe(4 * 2 ** 30);
    expect(parseByteSize('1.5 GiB')).toBe(1.5 * 2 ** 30);
    expect(parseByteSize('2GB')).toBe(2e9);
    expect(parseByteSize('10kb')).toBe(10_000);
  });
  it('anything else is not a size', () => {
    for (const bad of ['', 'G', '-1G', '1 parsec', '1e9', '1GiBB']) expect(parseByteSize(bad), bad).toBeNull();
  });
});
