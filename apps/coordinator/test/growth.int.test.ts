// Sweeps that grow, through a real coordinator on PGlite: seeds until the interval is tight
// (the coordinator's growth step after each result), a coordinator stopped and restarted on the
// same data directory mid-sweep (it carries on from the database alone, even where results were
// committed with no coordinator to act on them), and sweeps.extend through the API.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, TrialStore } from '@lmsweep/db';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { refusal, until } from './helpers.ts';
import { expectFinal, resultFor, SPEC, work } from './growth-sim.ts';

const dirs: string[] = [];
const open: Coordinator[] = [];
afterAll(async () => {
  for (const c of open) await c.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function coordinator(opts: Parameters<typeof startCoordinator>[0]): Promise<Coordinator> {
  const c = await startCoordinator({ port: 0, leaseMs: 20_000, backoffBaseMs: 0, ...opts });
  open.push(c);
  return c;
}

describe('seeds until the interval is tight', () => {
  it('the coordinator adds seeds to the wide configurations near the front until tight or max, then ends the sweep; the leaderboard marks the wide ones', async () => {
    const c = await coordinator({ databaseUrl: 'memory://' });
    const api = apiClient(c.url);
    const sweep = await api.sweeps.create.mutate({ spec: SPEC });
    expect(sweep.trials).toBe(8);
    const status = async () => (await api.sweeps.get.query({ id: sweep.id })).status;
    await work(c.url, async () => (await status()) !== 'running');
    expect(await status()).toBe('succeeded');
    await expectFinal(c.store, sweep.id);
    const lb = await api.leaderboard.list.query({ sweepId: sweep.id, sort: 'params' });
    expect(lb.map((e) => [e.params, e.seeds.length, e.ciTarget, e.ciTight, e.paretoRank])).toEqual([
      [1000, 4, 1.5, true, 0],
      [2000, 5, 1.5, false, 0],
      [3000, 2, 1.5, true, 1],
      [4000, 2, 1.5, false, 2],
    ]);
  });

  it('a coordinator stopped mid-sweep and restarted on the same PGlite directory carries on from the database alone', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-grow-'));
    dirs.push(dir);
    const databaseUrl = path.join(dir, 'db');
    const a = await coordinator({ databaseUrl });
    const sweep = await apiClient(a.url).sweeps.create.mutate({ spec: SPEC });
    // Until the growth step has appended a seed (the ninth trial), then one more result; then stop.
    await work(a.url, async () => (await a.store.getSweep(sweep.id))!.counts.total > 8);
    await work(a.url, async () => false, 1);
    await until('no growth step under way', async () => (await a.store.listTrials({ sweepId: sweep.id, status: 'running' })).total === 0);
    await a.close();
    // With no coordinator running, a result is committed (as if one died right after committing it).
    const db = await openDatabase({ url: databaseUrl });
    const store = new TrialStore(db);
    const before = (await store.getSweep(sweep.id))!.counts;
    let last;
    for (;;) {
      const t = await store.claim('offline', 60_000);
      if (!t) break;
      const hidden = (t.config as { model: { hidden: number } }).model.hidden;
      expect(await store.complete(t.id, 'offline', t.attempt, resultFor(hidden, t.seed))).toBe('ok');
      last = (await store.getSweep(sweep.id))!.counts;
    }
    expect(last!.queued + last!.running).toBe(0);
    expect((await store.getSweep(sweep.id))!.status).toBe('running'); // only a growth step ends it
    await db.close();
    // The next coordinator looks at the running sweeps that grow as it starts: seeds are appended with no worker around.
    const b = await coordinator({ databaseUrl });
    await until('the restarted coordinator to append seeds', async () => (await b.store.getSweep(sweep.id))!.counts.queued > 0, 20_000);
    expect((await b.store.getSweep(sweep.id))!.counts.total).toBeGreaterThan(before.total);
    await work(b.url, async () => (await b.store.getSweep(sweep.id))!.status !== 'running');
    expect((await b.store.getSweep(sweep.id))!.status).toBe('succeeded');
    await expectFinal(b.store, sweep.id);
  });
});

describe('sweeps.extend', () => {
  it('adds seeds and grid values, updates the spec, records who and what, runs an ended sweep again; refusals name the field; needs the API token', async () => {
    const c = await coordinator({ databaseUrl: 'memory://', apiToken: 'secret-token' });
    const api = apiClient(c.url, 'secret-token');
    const text = 'name: ext\ndataset: { name: ptb, vocabSize: 300 }\nmodel: { embedding: 8, hidden: 8, layers: 1 }\ngrid:\n  model.hidden: [8, 16] # sizes\nseeds: 1\n';
    const sweep = await api.sweeps.create.mutate({ spec: text });
    await work(c.url, async () => (await api.sweeps.get.query({ id: sweep.id })).status !== 'running');
    expect((await api.sweeps.get.query({ id: sweep.id })).status).toBe('succeeded');

    expect(await refusal(apiClient(c.url).sweeps.extend.mutate({ id: sweep.id, seeds: 1 }))).toMatchObject({ lmsweepCode: 'UNAUTHORIZED' });
    const r = await api.sweeps.extend.mutate({ id: sweep.id, grid: { 'model.hidden': [24] }, seeds: 1, by: 'tester@host' });
    expect(r).toEqual({ id: sweep.id, trials: 4, summary: '4 trials: model.hidden += 24; 1 more seed for every configuration (3)', reopened: true });
    const s = await api.sweeps.get.query({ id: sweep.id });
    expect(s.status).toBe('running');
    expect(s.counts).toMatchObject({ succeeded: 2, queued: 4, total: 6 });
    expect((s.spec as { grid: unknown; seeds: unknown }).grid).toEqual({ 'model.hidden': [8, 16, 24] });
    expect((s.spec as { seeds: unknown }).seeds).toBe(2);
    expect(s.specText).toContain('model.hidden: [ 8, 16, 24 ] # sizes');
    expect(s.extensions).toEqual([{ at: expect.any(String), by: 'tester@host', request: { grid: { 'model.hidden': [24] }, seeds: 1 }, trials: 4 }]);
    // the appended trials: hidden 24 seed 0, then seed 1 of every configuration
    const { items } = await api.trials.list.query({ sweepId: sweep.id });
    expect(items.map((t) => [t.ordinal, (t.config as { model: { hidden: number } }).model.hidden, t.seed])).toEqual([[0, 8, 0], [1, 16, 0], [2, 24, 0], [3, 8, 1], [4, 16, 1], [5, 24, 1]]);

    const bad = async (input: Record<string, unknown>) => refusal(api.sweeps.extend.mutate({ id: sweep.id, ...input } as never));
    expect(await bad({ trials: 10 })).toMatchObject({ lmsweepCode: 'INVALID_SPEC', fieldIssues: [{ path: 'trials', message: expect.stringContaining('this sweep is a grid') }] });
    expect(await bad({ grid: { 'model.hidden': [16] } })).toMatchObject({ lmsweepCode: 'INVALID_SPEC', fieldIssues: [{ path: 'grid.model.hidden', message: '16 is already in the grid (8, 16, 24)' }] });
    expect(await bad({ seeds: 0 })).toMatchObject({ lmsweepCode: 'INVALID_INPUT', fieldIssues: [{ path: 'seeds' }] });
    expect(await bad({ seeds: 1, colour: 'red' })).toMatchObject({ lmsweepCode: 'INVALID_INPUT' });
    expect(await refusal(api.sweeps.extend.mutate({ id: 'nope', seeds: 1 }))).toMatchObject({ lmsweepCode: 'NOT_FOUND' });
    expect((await api.sweeps.get.query({ id: sweep.id })).counts.total).toBe(6);
    await work(c.url, async () => (await api.sweeps.get.query({ id: sweep.id })).status !== 'running');
    expect((await api.sweeps.get.query({ id: sweep.id })).counts).toMatchObject({ succeeded: 6, total: 6 });
  });
});
