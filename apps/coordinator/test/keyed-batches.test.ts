import { describe, expect, it } from 'vitest';
import { KeyedBatches } from '../src/keyed-batches.ts';

describe('KeyedBatches', () => {
  it('runs one batch per key at a time; what waits goes together in the next; a throw rejects only its batch', async () => {
    const runs: { key: string; items: number[] }[] = [];
    let release: (() => void) | null = null;
    const b = new KeyedBatches<number, number>(async (key, items) => {
      runs.push({ key, items });
      if (items.includes(-1)) throw new Error('refused');
      if (items[0] === 1) await new Promise<void>((r) => (release = r));
      return items.map((i) => i * 10);
    }, 3);
    const first = b.submit('a', 1);
    await Promise.resolve();
    // While 'a' runs: four more for 'a' (two batches: at most 3 each), one for 'b' (not held up).
    const waiting = [2, 3, 4, 5].map((i) => b.submit('a', i));
    expect(await b.submit('b', 7)).toBe(70);
    release!();
    expect(await first).toBe(10);
    expect(await Promise.all(waiting)).toEqual([20, 30, 40, 50]);
    expect(runs).toEqual([
      { key: 'a', items: [1] },
      { key: 'b', items: [7] },
      { key: 'a', items: [2, 3, 4] },
      { key: 'a', items: [5] },
    ]);
    await expect(b.submit('a', -1)).rejects.toThrow('refused');
    expect(await b.submit('a', 6)).toBe(60);
    expect(b.busy).toBe(0);
  });
});
