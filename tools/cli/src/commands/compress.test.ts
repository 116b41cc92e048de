// The compress command declares the flags that ../compress.ts reads itself: they must agree.
import { describe, expect, it } from 'vitest';
import { COMPRESSION_METHODS } from '@lmsweep/algorithms';
import { runCompress } from '../compress.ts';
import { COMPRESS_METHOD_CHOICES, compressCommand } from './compress.ts';

describe('lmsweep compress declaration', () => {
  it("offers exactly the library's methods and all", () => {
    expect([...COMPRESS_METHOD_CHOICES]).toEqual([...COMPRESSION_METHODS, 'all']);
  });

  it('every declared flag is one runCompress accepts', async () => {
    const argv = Object.entries(compressCommand.options).flatMap(([name, o]) => (o.type === 'boolean' ? [`--${name}`] : [`--${name}`, '1']));
    // --help stops runCompress after its own strict parse: an undeclared flag would have thrown.
    await expect(runCompress([...argv, '--help'], () => {})).resolves.toBe(0);
    await expect(runCompress(['--not-declared', '--help'], () => {})).rejects.toThrow(/Unknown option '--not-declared'/);
  });
});
