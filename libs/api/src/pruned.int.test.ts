// The API of a pruned sweep on a real database (PGlite in memory), its trials stopped, paused and
// promoted through the store's own pruning writes (judgeReport, pauseTrial, pruneStep by way of
// @lmsweep/db/testing): trial lists filtered by paused and pruned, every row with its steps, rung,
// promotions and verdict, a resumed trial's segments, sweep counts, and the leaderboard's
// companion listing the configurations stopped early beside the ranking of those that finished.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCError } from '@trpc/server';
import type { ClaimedTrial, Db } from '@lmsweep/db';
import { TrialStore } from '@lmsweep/db';
import { memoryDb, pauseTrialAt, promoteTrial, stopTrialAt } from '@lmsweep/db/testing';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { appRouter } from './root.ts';
import { stoppedConfigurations, type StoppedRow } from './leaderboard.ts';

const SPEC = {
  name: 'api-pruned',
  dataset: { name: 'ptb', vocabSize: 300 },
  model: { embedding: 8, hidden: 8, layers: 1 },
  budget: { maxSteps: 900, evalEvery: 100 },
  grid: { 'training.lr': [0.01, 0.1, 0.5, 1] },
  seeds: 2,
};
const LEASE = 60_000;

let db: Db;
let store: TrialStore;
let api: ReturnType<typeof appRouter.createCaller>;
let sweepId = '';
/** Claimed trials by `${lr}/${seed}`, with the worker holding each. */
const trial = new Map<string, ClaimedTrial & { worker: string }>();
const at = (lr: number, seed: number) => trial.get(`${lr}/${seed}`)!;
const result = (validPpl: number) => ({ params: 1000, paramsByLayer: { all: 1000 }, validPpl, testPpl: validPpl + 1, steps: 900, tokens: 1, seconds: 1, tokensPerSecond: 1, vocabSize: 300, backend: 'test' });

beforeAll(async () => {
  db = await memoryDb();
  store = new TrialStore(db);
  api = appRouter.createCaller({ db, store, canWrite: true });
  // The scripted verdicts are the test's own: the sweep has no pruner, so nothing else decides for it.
  const spec = parseSweepSpec(SPEC);
  sweepId = (await store.createSweep({ name: spec.name, spec, specText: JSON.stringify(SPEC), plans: expandSweep(spec) })).id;
  const workers = Array.from({ length: 8 }, (_, i) => `w${i}`);
  const claimed = await store.claimMany(workers, LEASE);
  claimed.forEach((t, i) => {
    if (!t) throw new Error('a trial was not claimed');
    trial.set(`${(t.config as { training: { lr: number } }).training.lr}/${t.seed}`, { ...t, worker: workers[i]! });
  });
  expect(trial.size).toBe(8);
  const w = (lr: number, seed: number) => ({ workerId: at(lr, seed).worker, attempt: at(lr, seed).attempt });
  // lr 0.01: both seeds finish (ranked).
  for (const seed of [0, 1]) expect(await store.complete(at(0.01, seed).id, at(0.01, seed).worker, 1, result(120 + seed))).toBe('ok');
  // lr 0.1: both pruned, seed 0 at step 300 (rung 1), seed 1 at step 100 (rung 0).
  await stopTrialAt(store, at(0.1, 0).id, { ...w(0.1, 0), step: 300, value: 180, rung: 1, threshold: 150, reason: 'rung 1: 180 is not in the best third (150)', before: [{ step: 100, value: 260 }, { step: 200, value: 210 }] });
  await stopTrialAt(store, at(0.1, 1).id, { ...w(0.1, 1), step: 100, value: 250, rung: 0, threshold: 240 });
  // lr 0.5: seed 0 paused at step 300, then promoted, resumed and paused again at 600; seed 1 pruned at 100 (a diverged value).
  await pauseTrialAt(store, at(0.5, 0).id, { ...w(0.5, 0), step: 300, value: 170, rung: 1, before: [{ step: 100, value: 240 }] });
  await promoteTrial(store, sweepId, at(0.5, 0).id);
  const resumed = (await store.claim('w-resume', LEASE))!;
  expect(resumed).toMatchObject({ id: at(0.5, 0).id, attempt: 2, resume: { step: 300 } });
  await pauseTrialAt(store, resumed.id, { workerId: 'w-resume', attempt: 2, step: 600, value: 150, rung: 2, before: [{ step: 400, value: 160 }] });
  await stopTrialAt(store, at(0.5, 1).id, { ...w(0.5, 1), step: 100, value: Number.NaN, rung: 0, threshold: 240, reason: 'diverged' });
  // lr 1: seed 0 pruned, seed 1 still running: not stopped early yet.
  await stopTrialAt(store, at(1, 0).id, { ...w(1, 0), step: 200, value: 400, rung: 0 });
}, 120_000);

afterAll(async () => {
  await db?.close();
});

describe('a pruned sweep through the API', () => {
  it('lists trials by status, paused and pruned included; every row carries steps, rung, promotions and verdict', async () => {
    const pruned = await api.trials.list({ sweepId, status: 'pruned' });
    expect(pruned.total).toBe(4);
    expect(pruned.items.map((t) => [t.seed, t.steps, t.rung, t.promotions, (t.verdict as { action: string }).action])).toEqual([
      [0, 300, 1, 0, 'stop'],
      [1, 100, 0, 0, 'stop'],
      [1, 100, 0, 0, 'stop'],
      [0, 200, 0, 0, 'stop'],
    ]);
    expect(pruned.items[0]).toMatchObject({ status: 'pruned', validPpl: 180, verdict: { step: 300, rung: 1, value: 180, threshold: 150, reason: 'rung 1: 180 is not in the best third (150)' } });
    const paused = await api.trials.list({ sweepId, status: 'paused' });
    expect(paused.items.map((t) => [t.id, t.status, t.steps, t.rung, t.promotions, t.validPpl])).toEqual([[at(0.5, 0).id, 'paused', 600, 2, 1, 150]]);
    const stopped = await api.trials.list({ sweepId, status: ['paused', 'pruned'], sort: 'validPpl' });
    expect(stopped.total).toBe(5);
    const all = await api.trials.list({ sweepId });
    for (const t of all.items) for (const k of ['steps', 'rung', 'promotions', 'verdict'] as const) expect(t, `${t.status} trial ${t.id}`).toHaveProperty(k);
    expect(all.items.filter((t) => t.status === 'succeeded').map((t) => [t.steps, t.rung, t.promotions, t.verdict])).toEqual([[900, null, 0, null], [900, null, 0, null]]);
    expect(all.items.filter((t) => t.status === 'running').map((t) => [t.steps, t.verdict])).toEqual([[null, null]]);
  });

  it('refuses a status it does not know, naming the field', async () => {
    const e = await api.trials.list({ sweepId, status: 'stopped' as never }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TRPCError);
    expect((e as TRPCError).code).toBe('BAD_REQUEST');
    expect((e as TRPCError).message).toMatch(/status/);
  });

  it("a resumed trial's get carries its segments: each attempt's curve up to where it paused", async () => {
    const t = await api.trials.get({ id: at(0.5, 0).id });
    expect(t.segments).toEqual([{ attempt: 1, through: 300 }, { attempt: 2, through: 600 }]);
    expect(t.curves.filter((c) => c.name === 'valid_ppl').map((c) => [c.attempt, c.points.map((p) => p.step)])).toEqual([[1, [100, 300]], [2, [400, 600]]]);
    expect(t).toMatchObject({ status: 'paused', steps: 600, rung: 2, promotions: 1, verdict: { action: 'pause', step: 600, rung: 2 } });
  });

  it('counts paused and pruned in the sweep summaries', async () => {
    const s = await api.sweeps.get({ id: sweepId });
    expect(s.counts).toEqual({ queued: 0, running: 1, paused: 1, succeeded: 2, pruned: 4, failed: 0, cancelled: 0, total: 8 });
    const list = await api.sweeps.list();
    expect(list.items.find((x) => x.id === sweepId)!.counts).toMatchObject({ paused: 1, pruned: 4 });
  });

  it('ranks the configuration that finished as before, and lists those stopped early beside it: where they stopped, their rung, their last value', async () => {
    const ranked = await api.leaderboard.list({ sweepId });
    expect(ranked.map((e) => [(e.config as { training: { lr: number } }).training.lr, e.seeds])).toEqual([[0.01, [0, 1]]]);
    const stopped = await api.leaderboard.stopped({ sweepId });
    expect(stopped.total).toBe(2);
    // Furthest first: lr 0.5 (paused at 600, may yet be promoted), then lr 0.1 (pruned at 300). lr 1 still has a seed running.
    expect(stopped.entries.map((e) => [(e.config as { training: { lr: number } }).training.lr, e.status, e.steps, e.rung, e.validPpl, e.seeds])).toEqual([
      [0.5, 'paused', 600, 2, 150, [0, 1]],
      [0.1, 'pruned', 300, 1, 180, [0, 1]],
    ]);
    expect(stopped.entries[0]!.trials.map((t) => [t.status, t.steps, t.validPpl, t.promotions, t.reason])).toEqual([
      ['paused', 600, 150, 1, 'paused at step 600 (scripted)'],
      ['pruned', 100, null, 0, 'diverged'],
    ]);
    expect(stopped.entries[1]!.trials.map((t) => t.threshold)).toEqual([150, 240]);
    // Served as JSON: the diverged value is null, not a bare NaN.
    expect(JSON.parse(JSON.stringify(stopped))).toEqual(stopped);
    expect((await api.leaderboard.stopped({ sweepId, offset: 1, limit: 1 })).entries.map((e) => e.steps)).toEqual([300]);
    expect((await api.leaderboard.stopped()).total).toBe(2);
    // Once its last seed is pruned too, lr 1 joins them.
    const last = at(1, 1);
    await stopTrialAt(store, last.id, { workerId: last.worker, attempt: last.attempt, step: 200, value: 390 });
    expect((await api.leaderboard.stopped({ sweepId })).entries.map((e) => [(e.config as { training: { lr: number } }).training.lr, e.steps, e.validPpl])).toEqual([
      [0.5, 600, 150],
      [0.1, 300, 180],
      [1, 200, 395],
    ]);
  });
});

describe('stoppedConfigurations', () => {
  const row = (configKey: string, seed: number, steps: number | null, validPpl: number | null, status: 'pruned' | 'paused' = 'pruned'): StoppedRow => ({
    id: `${configKey}-${seed}`,
    sweepId: 's',
    configKey,
    config: {},
    method: 'dense',
    seed,
    status,
    steps,
    rung: null,
    validPpl,
    promotions: 0,
    verdict: null,
  });
  it('orders furthest first, then by last value, a configuration without a finite value last', () => {
    const out = stoppedConfigurations([row('a', 0, 100, 200), row('b', 0, 300, Number.NaN), row('c', 0, 300, 250), row('d', 0, 100, 150), row('d', 1, null, null, 'paused')]);
    expect(out.map((e) => [e.configKey, e.steps, e.validPpl, e.rung, e.status])).toEqual([
      ['c', 300, 250, null, 'pruned'],
      ['b', 300, null, null, 'pruned'],
      ['d', 100, 150, null, 'paused'],
      ['a', 100, 200, null, 'pruned'],
    ]);
  });
});
