// The verdict book: a verdict reaches the wait for its step whichever comes first, and one that
// comes after its wait gave up says so (the agent must not pause a step it trained past).
import type { PruneVerdict } from '@lmsweep/protocol';
import { describe, expect, it } from 'vitest';
import { VerdictBook } from './verdicts.ts';

const pause = (step: number): PruneVerdict => ({ action: 'pause', step, rung: 0, value: 120.5, threshold: 110, reason: 'below the top 1/3 of rung 0' });
const go = (step: number): PruneVerdict => ({ action: 'continue', step });
const never = new AbortController().signal;

describe('VerdictBook', () => {
  it('answers a wait in progress, and keeps a verdict that came before its question', async () => {
    const book = new VerdictBook();
    const waiting = book.wait(10, 5_000, never);
    expect(book.file(go(10))).toBe('answered');
    await expect(waiting).resolves.toEqual(go(10));
    expect(book.file(pause(20))).toBe('kept');
    await expect(book.wait(20, 5_000, never)).resolves.toEqual(pause(20));
  });

  it('a wait without an answer gives up after its time; the verdict after it is late, and so is one for an earlier step', async () => {
    const book = new VerdictBook();
    const t0 = performance.now();
    await expect(book.wait(30, 50, never)).resolves.toBeNull();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(book.file(pause(30))).toBe('late');
    expect(book.file(pause(20))).toBe('late');
    // a later step is still to be asked about
    expect(book.file(go(40))).toBe('kept');
  });

  it('a signal ends the wait at once, and one already fired answers null', async () => {
    const book = new VerdictBook();
    const stop = new AbortController();
    const waiting = book.wait(5, 60_000, stop.signal);
    stop.abort('lease lost');
    await expect(waiting).resolves.toBeNull();
    expect(book.file(go(5))).toBe('late');
    await expect(book.wait(6, 60_000, stop.signal)).resolves.toBeNull();
  });
});
