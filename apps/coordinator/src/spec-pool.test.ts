// The spec pool on real threads: its queue bound (a job a thread can take now is never refused),
// and its two lanes (anonymous validations cannot keep a launch waiting or refused). Jobs are
// submitted in one synchronous burst, so no answer can come back before the last is submitted.
import { afterEach, describe, expect, it } from 'vitest';
import { SpecChecksBusyError } from '@lmsweep/api';
import { SpecPool } from './spec-pool.ts';

const SPEC = (n: number) => `name: s\ndataset: { name: ptb, vocabSize: 300 }\ngrid:\n  model.hidden: [${Array.from({ length: n }, (_, i) => i + 8).join(', ')}]\n`;
const anonymous = { files: false };
const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof SpecChecksBusyError ? 'BUSY' : `error: ${(e as Error).message}`));

let pool: SpecPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('SpecPool', () => {
  it('maxQueued 0 means no waiting, not no work: a job an idle thread can take is answered', async () => {
    pool = new SpecPool({ threads: 1, maxQueued: 0 });
    expect(await pool.validate(SPEC(3), anonymous)).toMatchObject({ ok: true, trials: 3 });
    // …and while the thread is busy, the next one would wait: refused.
    const burst = [pool.validate(SPEC(3), anonymous), pool.validate(SPEC(3), anonymous)].map(outcome);
    expect(await Promise.all(burst)).toEqual(['ok', 'BUSY']);
  });

  it('refuses a lane\'s jobs past what its threads run and its queue holds, and takes them again once drained', async () => {
    pool = new SpecPool({ threads: 1, maxQueued: 2 });
    const burst = Array.from({ length: 6 }, () => outcome(pool!.validate(SPEC(20), anonymous)));
    expect(await Promise.all(burst)).toEqual(['ok', 'ok', 'ok', 'BUSY', 'BUSY', 'BUSY']); // 1 running + 2 waiting
    expect(pool.backlog).toBe(0);
    expect(await outcome(pool.validate(SPEC(2), anonymous))).toBe('ok');
  });

  it('a launch is neither refused nor kept waiting by anonymous validations: it starts at once on a thread of its own', async () => {
    pool = new SpecPool({ threads: 1, maxQueued: 2 });
    const reads = Array.from({ length: 4 }, () => outcome(pool!.validate(SPEC(50), anonymous)));
    expect(pool.running).toEqual({ write: 0, read: 1 });
    const launch = pool.prepare(SPEC(4));
    expect(pool.running).toEqual({ write: 1, read: 1 }); // not queued behind the two waiting validations
    expect((await launch).plans).toHaveLength(4);
    // A launcher's validation (it may look at files) rides the same lane.
    const checked = pool.validate(SPEC(2), { files: true });
    expect(pool.running.write).toBe(1);
    expect(await checked).toMatchObject({ ok: true, datasetsChecked: true });
    expect(await Promise.all(reads)).toEqual(['ok', 'ok', 'ok', 'BUSY']);
    // Read jobs never take more than `threads` threads, so the extra one is there for the next launch.
    expect(pool.threadCount).toBe(2);
    const more = Array.from({ length: 3 }, () => outcome(pool!.validate(SPEC(50), anonymous)));
    expect(pool.running.read).toBe(1);
    const again = pool.prepare(SPEC(2));
    expect(pool.running.write).toBe(1);
    await again;
    await Promise.all(more);
  });
});
