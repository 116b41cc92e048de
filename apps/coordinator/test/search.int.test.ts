// Sampled sweeps through a real coordinator on PGlite: launched with the sampler's first
// configurations, grown by the growth step as results commit (never more than `parallel` in
// flight, never more than `trials` in all), ended when the last configuration's seeds finish; a
// coordinator stopped and restarted mid-search carries on from the database alone; `extend
// --trials` runs an ended search again with a larger budget.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { refusal, until } from './helpers.ts';
import { expectSearchFinal, SAMPLED, searchResult, work } from './growth-sim.ts';

const dirs: string[] = [];
const open: Coordinator[] = [];
afterAll(async () => {
  for (const c of open) await c.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function coordinator(databaseUrl: string): Promise<Coordinator> {
  const c = await startCoordinator({ port: 0, databaseUrl, leaseMs: 20_000, backoffBaseMs: 0 });
  open.push(c);
  return c;
}

/** Configurations of the sweep with a trial queued or running. */
async function inFlight(c: Coordinator, sweepId: string): Promise<number> {
  const { items } = await c.store.listTrials({ sweepId, limit: 500 });
  return new Set(items.filter((t) => t.status === 'queued' || t.status === 'running').map((t) => t.configKey)).size;
}

describe('a sampled sweep', () => {
  it('runs to its budget: `parallel` configurations at a time, each with its seeds, then ends; TPE beats its uniform start', async () => {
    const c = await coordinator('memory://');
    const api = apiClient(c.url);
    const sweep = await api.sweeps.create.mutate({ spec: SAMPLED });
    expect(sweep.trials).toBe(3 * 2);
    let most = 0;
    const running = async () => {
      most = Math.max(most, await inFlight(c, sweep.id));
      return (await api.sweeps.get.query({ id: sweep.id })).status === 'running';
    };
    await Promise.all([0, 1].map((i) => work(c.url, async () => !(await running()), Infinity, `w${i}`, searchResult)));
    expect((await api.sweeps.get.query({ id: sweep.id })).status).toBe('succeeded');
    expect(most).toBeLessThanOrEqual(3);
    const { items, search } = await expectSearchFinal(c.store, sweep.id, 14);
    expect(items).toHaveLength(28);
    const mean = (key: string) => items.filter((t) => t.configKey === key).reduce((s, t) => s + t.validPpl!, 0) / 2;
    const means = search.points.map((p) => mean(p.key));
    // TPE takes over after 10 finished configurations; the optimum is 101.1.
    expect(Math.min(...means)).toBeLessThan(110);
    // The leaderboard ranks the sampled configurations as any others.
    const lb = await api.leaderboard.list.query({ sweepId: sweep.id, sort: 'validPpl' });
    expect(lb).toHaveLength(14);
    expect(lb[0]!.validPpl.mean).toBeCloseTo(Math.min(...means), 9);
    // The search as the sweep page shows it.
    const view = (await api.sweeps.search.query({ id: sweep.id }))!;
    expect(view).toMatchObject({ sampler: 'tpe', budget: 14, chosen: 14, finished: 14, inFlight: 0, parallel: 3, exhausted: null });
    expect(view.best!.validPpl).toBeCloseTo(Math.min(...means), 9);
    expect(view.trace).toHaveLength(14);
    expect(view.trace.at(-1)!.best).toBeCloseTo(Math.min(...means), 9);
    for (let i = 1; i < 14; i++) expect(view.trace[i]!.hypervolume!).toBeGreaterThanOrEqual(view.trace[i - 1]!.hypervolume!);
    expect(await api.sweeps.search.query({ id: (await api.sweeps.create.mutate({ spec: { name: 'g', dataset: SAMPLED.dataset, grid: { 'model.hidden': [8] } } })).id })).toBeNull();
  });

  it('a coordinator stopped mid-search and restarted on the same directory carries on to exactly the budget; extend --trials runs it again', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-search-'));
    dirs.push(dir);
    const databaseUrl = path.join(dir, 'db');
    const a = await coordinator(databaseUrl);
    const sweep = await apiClient(a.url).sweeps.create.mutate({ spec: SAMPLED });
    await work(a.url, async () => false, 9, 'w', searchResult);
    await until('the growth step to append', async () => (await a.store.getSweep(sweep.id))!.counts.total > 6);
    await a.close();
    const b = await coordinator(databaseUrl);
    const api = apiClient(b.url);
    await work(b.url, async () => (await api.sweeps.get.query({ id: sweep.id })).status !== 'running', Infinity, 'w', searchResult);
    expect((await api.sweeps.get.query({ id: sweep.id })).status).toBe('succeeded');
    await expectSearchFinal(b.store, sweep.id, 14);

    // Four more configurations: the sweep runs again, the spec reads 18, the growth step samples them.
    const more = await api.sweeps.extend.mutate({ id: sweep.id, trials: 4, by: 'tester' });
    expect(more).toMatchObject({ trials: 0, reopened: true, summary: expect.stringContaining('4 more configurations for the search (18 in all') });
    const s = await api.sweeps.get.query({ id: sweep.id });
    expect((s.spec as { search: { trials: number } }).search.trials).toBe(18);
    await until('new configurations', async () => (await b.store.getSweep(sweep.id))!.counts.queued > 0);
    await work(b.url, async () => (await api.sweeps.get.query({ id: sweep.id })).status !== 'running', Infinity, 'w', searchResult);
    await expectSearchFinal(b.store, sweep.id, 18);
    // A grid's refusal, and a search's.
    expect(await refusal(api.sweeps.extend.mutate({ id: sweep.id, grid: { 'model.hidden': [72] } }))).toMatchObject({ lmsweepCode: 'INVALID_SPEC', fieldIssues: [{ path: 'grid', message: expect.stringContaining('sampled search') }] });
  });
});
