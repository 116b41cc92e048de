// A smoke run of `lmsweep bench load`: a few simulated workers drain a small queue on PGlite.
import { describe, expect, it } from 'vitest';
import { benchLoad } from './load.ts';

describe('bench load', () => {
  it('drains the queue and reports rates, latencies, memory and the leaderboard time as JSON', async () => {
    const lines: string[] = [];
    await benchLoad({ json: true, out: (l) => lines.push(l), args: ['--workers', '4', '--trials', '40', '--queued', '0', '--no-postgres'] });
    expect(lines).toHaveLength(2);
    const r = JSON.parse(lines[0]!);
    // No PostgreSQL run, so no Optuna reference: the line says why.
    expect(JSON.parse(lines[1]!)).toEqual({ bench: 'load', reference: 'optuna', error: 'PostgreSQL not run', ratio: null });
    expect(r).toMatchObject({ bench: 'load', database: 'pglite', workers: 4, offered: 'closed', trials: 40, completed: 40 });
    for (const k of ['claimsPerSecond', 'completionsPerSecond', 'claimP50Ms', 'claimP99Ms', 'rssMiB', 'leaderboardMs']) expect(r[k]).toBeGreaterThan(0);
    expect(r.claimP99Ms).toBeGreaterThanOrEqual(r.claimP50Ms);
  });

  it('paced: workers with trials of workers/rate seconds offer about that many claims a second', async () => {
    const lines: string[] = [];
    await benchLoad({ json: true, out: (l) => lines.push(l), args: ['--workers', '10', '--trials', '20', '--rates', '20', '--seconds', '2', '--queued', '0', '--no-postgres'] });
    expect(lines).toHaveLength(3);
    const paced = JSON.parse(lines[1]!);
    expect(paced).toMatchObject({ database: 'pglite', workers: 10, offered: '20/s' });
    // ~2 s at 20 claims/s (the first trial of each worker starts within half a second): well
    // under the closed loop's rate, and every claimed trial completed
    expect(paced.claimsPerSecond).toBeGreaterThan(5);
    expect(paced.claimsPerSecond).toBeLessThan(40);
    expect(paced.completed).toBeGreaterThan(10);
    expect(paced.claimP99Ms).toBeGreaterThan(0);
  });

  it('times the claim statement alone at a given queue, for 1 and for 100 workers', async () => {
    const lines: string[] = [];
    await benchLoad({ json: true, out: (l) => lines.push(l), args: ['--workers', '2', '--trials', '4', '--queued', '1000', '--queued-sweeps', '4', '--no-postgres'] });
    const claims = lines.map((l) => JSON.parse(l)).filter((r) => r.kind === 'claim');
    expect(claims.map((c) => [c.database, c.sweeps, c.batch])).toEqual([['pglite', 4, 1], ['pglite', 4, 100]]);
    expect(claims[0].queued).toBe(1000 - 3);
    for (const c of claims) {
      expect(c.runs).toBeGreaterThan(0);
      expect(c.p90Ms).toBeGreaterThanOrEqual(c.p50Ms);
      expect(c.p50Ms).toBeGreaterThan(0);
    }
  });
});
