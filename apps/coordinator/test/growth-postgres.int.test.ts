// Sweeps that grow on two coordinators sharing one PostgreSQL server: both run the growth step
// after every result (each sees every result through LISTEN/NOTIFY) and take turns on the sweep's
// lock, so no seed is planned twice and none beyond what the decision allows; two extensions sent
// through both at once both apply, once each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { SweepSpec } from '@lmsweep/protocol';
import { planGrowth } from '@lmsweep/sweep';
import { startPostgres, type TestPostgres } from '@lmsweep/db/testing';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { expectSearchFinal, SAMPLED, SPEC, searchResult, seedsByHidden, work } from './growth-sim.ts';

let pg: TestPostgres;
const open: Coordinator[] = [];
const logs: string[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  for (const c of open) await c.close();
  await pg?.stop();
});

async function pair(): Promise<[Coordinator, Coordinator]> {
  const databaseUrl = await pg.createDatabase();
  const opts = { port: 0, databaseUrl, leaseMs: 20_000, backoffBaseMs: 0, log };
  const a = await startCoordinator(opts);
  open.push(a);
  const b = await startCoordinator(opts);
  open.push(b);
  return [a, b];
}

describe('two coordinators, one PostgreSQL', () => {
  it('seeds until the interval is tight: growth steps on both, no seed twice, none past what the decision allows', async () => {
    const [a, b] = await pair();
    const sweep = await apiClient(a.url).sweeps.create.mutate({ spec: SPEC });
    const running = async () => (await a.store.getSweep(sweep.id))!.status === 'running';
    // Six simulated workers, three on each coordinator.
    const done = await Promise.all([a, b, a, b, a, b].map((c, i) => work(c.url, async () => !(await running()), Infinity, `w${i}`)));
    expect((await b.store.getSweep(sweep.id))!.status).toBe('succeeded');
    const { items } = await a.store.listTrials({ sweepId: sweep.id, limit: 100 });
    expect(done.reduce((x, y) => x + y, 0)).toBe(items.length); // every trial completed once
    expect(items.every((t) => t.status === 'succeeded' && t.attempt === 1)).toBe(true);
    const seeds = seedsByHidden(items);
    for (const v of Object.values(seeds)) expect(v).toEqual(v.map((_, i) => i)); // 0, 1, …: none twice, none skipped
    // Order-independent ones exactly; 32's depends on whether 24 had finished when it was judged.
    expect([seeds[8]!.length, seeds[16]!.length, seeds[24]!.length]).toEqual([4, 5, 2]);
    expect(seeds[32]!.length).toBeGreaterThanOrEqual(2);
    expect(seeds[32]!.length).toBeLessThanOrEqual(5);
    // It ended because nothing more was needed: the decision on the final trials adds nothing.
    const state = (await a.store.growthState(sweep.id))!;
    expect(planGrowth(SweepSpec.parse(state.sweep.spec), state.trials).plans).toEqual([]);
    expect(logs.filter((l) => /growth step failed|appendPlans/.test(l))).toEqual([]);
    expect(logs.some((l) => l.includes('growth: trials appended'))).toBe(true);
  });

  it('a sampled search: growth steps on both, exactly `trials` configurations, none twice, each with its seeds once', async () => {
    const [a, b] = await pair();
    const sweep = await apiClient(b.url).sweeps.create.mutate({ spec: SAMPLED });
    const running = async () => (await a.store.getSweep(sweep.id))!.status === 'running';
    const done = await Promise.all([a, b, a, b].map((c, i) => work(c.url, async () => !(await running()), Infinity, `s${i}`, searchResult)));
    expect((await a.store.getSweep(sweep.id))!.status).toBe('succeeded');
    const { items, search } = await expectSearchFinal(a.store, sweep.id, 14);
    expect(done.reduce((x, y) => x + y, 0)).toBe(items.length);
    expect(items.every((t) => t.attempt === 1)).toBe(true);
    expect(new Set(search.points.map((p) => JSON.stringify(p.point))).size).toBe(14);
    expect(logs.filter((l) => /growth step failed|appendPlans/.test(l))).toEqual([]);
  });

  it('extensions sent through both coordinators at once both apply, once each', async () => {
    const [a, b] = await pair();
    const spec = { name: 'twice', dataset: { name: 'ptb', vocabSize: 300 }, grid: { 'model.hidden': [8, 16] }, seeds: 1 };
    const sweep = await apiClient(a.url).sweeps.create.mutate({ spec });
    const answers = await Promise.all([
      apiClient(a.url).sweeps.extend.mutate({ id: sweep.id, seeds: 1, by: 'via-a' }),
      apiClient(b.url).sweeps.extend.mutate({ id: sweep.id, seeds: 1, by: 'via-b' }),
      apiClient(b.url).sweeps.extend.mutate({ id: sweep.id, grid: { 'model.hidden': [24] }, by: 'via-b' }),
    ]);
    // The grid value's point runs for every seed the spec has when it applies (1, 2 or 3): 7 trials in all, whatever the order.
    expect(answers.reduce((n, r) => n + r.trials, 0)).toBe(7);
    const s = (await b.store.getSweep(sweep.id))!;
    expect((s.extensions as { by: string }[]).map((x) => x.by).sort()).toEqual(['via-a', 'via-b', 'via-b']);
    expect((s.spec as { seeds: number; grid: unknown }).seeds).toBe(3);
    expect((s.spec as { grid: unknown }).grid).toEqual({ 'model.hidden': [8, 16, 24] });
    const { items } = await a.store.listTrials({ sweepId: sweep.id, limit: 100 });
    const seeds = seedsByHidden(items);
    expect(seeds).toEqual({ 8: [0, 1, 2], 16: [0, 1, 2], 24: [0, 1, 2] });
    expect(new Set(items.map((t) => t.ordinal)).size).toBe(items.length);
  });
});
