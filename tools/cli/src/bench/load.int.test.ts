// A smoke run of `lmsweep bench load`: a few simulated workers drain a small queue on PGlite.
import { describe, expect, it } from 'vitest';
import { benchLoad } from './load.ts';

describe('bench load', () => {
  it('drains the queue and reports rates, latencies, memory and the leaderboard time as JSON', async () => {
    const lines: string[] = [];
    await benchLoad({ json: true, out: (l) => lines.push(l), args: ['--workers', '4', '--trials', '40', '--no-postgres'] });
    expect(lines).toHaveLength(2);
    const r = JSON.parse(lines[0]!);
    // No PostgreSQL run, so no Optuna reference: the line says why.
    expect(JSON.parse(lines[1]!)).toEqual({ bench: 'load', reference: 'optuna', error: 'PostgreSQL not run', ratio: null });
    expect(r).toMatchObject({ bench: 'load', database: 'pglite', workers: 4, trials: 40, completed: 40 });
    for (const k of ['claimsPerSecond', 'completionsPerSecond', 'claimP50Ms', 'claimP99Ms', 'rssMiB', 'leaderboardMs']) expect(r[k]).toBeGreaterThan(0);
    expect(r.claimP99Ms).toBeGreaterThanOrEqual(r.claimP50Ms);
  });
});
