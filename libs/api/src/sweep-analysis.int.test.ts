// sweeps.analysis on a real database (PGlite in memory): a grid of learning rates with two seeds,
// trained through the store (claims, metrics, completions, one trial failing), read back as the
// dashboard's analysis views read it; a missing sweep and a bad argument refused, naming them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCError } from '@trpc/server';
import type { Db } from '@lmsweep/db';
import { TrialStore } from '@lmsweep/db';
import { memoryDb } from '@lmsweep/db/testing';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { appRouter } from './root.ts';

let db: Db;
let api: ReturnType<typeof appRouter.createCaller>;
let sweepId = '';
const LRS = [0.01, 0.1, 1];
const ppl = (lr: number, seed: number, step: number) => (120 + 60 * Math.abs(Math.log10(lr) + 1) + seed) * (1 + 50 / step);

beforeAll(async () => {
  db = await memoryDb();
  const store = new TrialStore(db);
  api = appRouter.createCaller({ db, store, canWrite: true });
  const spec = parseSweepSpec({ name: 'analysis', dataset: { name: 'ptb', vocabSize: 300 }, budget: { maxSteps: 300, evalEvery: 100 }, grid: { 'training.lr': LRS }, seeds: 2 });
  sweepId = (await store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec) })).id;
  for (let i = 0; i < 6; i++) {
    const t = (await store.claim(`w${i}`, 60_000))!;
    const lr = (t.config as { training: { lr: number } }).training.lr;
    if (lr === 1 && t.seed === 1) {
      await store.fail(t.id, `w${i}`, t.attempt, { kind: 'diverged', error: 'diverged', retryable: false });
      continue;
    }
    const points = [100, 200, 300].map((step) => ({ step, epoch: step / 1000, name: 'valid_ppl', value: ppl(lr, t.seed, step) }));
    expect(await store.addMetrics(t.id, `w${i}`, t.attempt, [...points, { step: 300, epoch: 0.3, name: 'train_loss', value: 5 }])).toBe(true);
    const v = ppl(lr, t.seed, 300);
    expect(await store.complete(t.id, `w${i}`, t.attempt, { params: 12_000, paramsByLayer: { all: 12_000 }, validPpl: v, testPpl: v, steps: 300, tokens: 1, seconds: 1, tokensPerSecond: 1, vocabSize: 300, backend: 'test' })).toBe('ok');
  }
});
afterAll(async () => {
  await db?.close();
});

describe('sweeps.analysis', () => {
  it('every trial with its lr, the history of the five that succeeded, lr as the one important field, their validation curves', async () => {
    const a = await api.sweeps.analysis({ id: sweepId });
    expect(a.parameters).toEqual([{ key: 'training.lr', short: 'lr', kind: 'numeric', min: 0.01, max: 1, log: true }]);
    expect(a.rows).toHaveLength(6);
    expect(a.rows.filter((r) => r.status === 'failed')).toHaveLength(1);
    expect(a.history).toHaveLength(5);
    expect(a.history.at(-1)!.best).toBeCloseTo(ppl(0.1, 0, 300), 9);
    expect(a.reference).toBeNull(); // one parameter count: one objective
    expect(a.importance!.items).toEqual([{ key: 'training.lr', importance: 1 }]);
    expect(a.curvesTotal).toBe(5);
    for (const c of a.curves) {
      expect(c.points.map((p) => p[0])).toEqual([100, 200, 300]);
      expect(c.stoppedAt).toBeNull();
    }
    expect((await api.sweeps.analysis({ id: sweepId, curves: 2 })).curves).toHaveLength(2);
    expect((await api.sweeps.analysis({ id: sweepId, curves: 0 })).curves).toEqual([]);
  });

  it('refuses a missing sweep and a curve of fewer than 4 points, naming them', async () => {
    const missing = await api.sweeps.analysis({ id: 'nope' }).catch((x: unknown) => x);
    expect((missing as TRPCError).code).toBe('NOT_FOUND');
    const bad = await api.sweeps.analysis({ id: sweepId, points: 1 }).catch((x: unknown) => x);
    expect((bad as TRPCError).code).toBe('BAD_REQUEST');
    expect((bad as TRPCError).message).toMatch(/points/);
  });

  it('sweeps.compare: two learning rates paired over their shared seed; too few configurations refused, naming configKeys', async () => {
    const a = await api.sweeps.analysis({ id: sweepId, curves: 0 });
    const key = (lr: number) => a.rows.find((r) => r.values[0] === lr)!.configKey;
    const c = await api.sweeps.compare({ id: sweepId, configKeys: [key(1), key(0.1)] });
    expect(c.fields).toEqual(['training.lr']);
    expect(c.configs.map((x) => x.values)).toEqual([['1'], ['0.1']]);
    // lr 1 seed 1 failed: one seed in common, a difference without an interval.
    expect(c.paired[0]).toMatchObject({ config: 1, seeds: [0], valid: { n: 1, lo: null, hi: null, p: null } });
    expect(c.paired[0]!.valid.mean).toBeCloseTo(ppl(0.1, 0, 300) - ppl(1, 0, 300), 9);
    expect(c.configs[1]!.trials.map((t) => t.curve.map((p) => p[0]))).toEqual([[100, 200, 300], [100, 200, 300]]);
    const bad = await api.sweeps.compare({ id: sweepId, configKeys: [key(1)] }).catch((x: unknown) => x);
    expect((bad as TRPCError).code).toBe('BAD_REQUEST');
    expect((bad as TRPCError).message).toMatch(/configKeys/);
    const unknown = await api.sweeps.compare({ id: sweepId, configKeys: [key(1), 'nope'] }).catch((x: unknown) => x);
    expect((unknown as TRPCError).message).toMatch(/configKeys: no trial of configuration nope/);
  });
});
