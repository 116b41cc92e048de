// trials.get thins long curves to the number of points a client asks for, on a real database
// (PGlite in memory): the stored points stay whole, a short curve comes back as it is, and a
// request for fewer points than a curve's ends and one stretch is refused, naming the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCError } from '@trpc/server';
import type { Db } from '@lmsweep/db';
import { TrialStore } from '@lmsweep/db';
import { memoryDb } from '@lmsweep/db/testing';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { appRouter } from './root.ts';

let db: Db;
let api: ReturnType<typeof appRouter.createCaller>;
let trialId = '';
const LOSS = (step: number) => 6 * Math.exp(-step / 2000) + (step === 1234 ? 3 : 0);

beforeAll(async () => {
  db = await memoryDb();
  const store = new TrialStore(db);
  api = appRouter.createCaller({ db, store, canWrite: true });
  const spec = parseSweepSpec({ name: 'long-curve', dataset: { name: 'ptb', vocabSize: 300 } });
  await store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec) });
  const t = (await store.claim('w', 60_000))!;
  trialId = t.id;
  for (let from = 1; from <= 6000; from += 1000) {
    const points = Array.from({ length: 1000 }, (_, i) => ({ step: from + i, epoch: 0, name: 'train_loss', value: LOSS(from + i) }));
    if (from === 1) points.push(...[100, 200, 300].map((step) => ({ step, epoch: 0, name: 'valid_ppl', value: 500 - step })));
    expect(await store.addMetrics(t.id, 'w', t.attempt, points)).toBe(true);
  }
});
afterAll(async () => {
  await db?.close();
});

describe('trials.get points', () => {
  it('thins a 6000-point curve to at most the points asked, keeping its ends, its minimum and its spike; leaves a short one whole', async () => {
    const t = await api.trials.get({ id: trialId, points: 200 });
    const loss = t.curves.find((c) => c.name === 'train_loss')!;
    expect(loss.stored).toBe(6000);
    expect(loss.points.length).toBeLessThanOrEqual(200);
    expect(loss.points.length).toBeGreaterThan(190);
    expect(loss.points[0]!.step).toBe(1);
    expect(loss.points.at(-1)).toMatchObject({ step: 6000, value: LOSS(6000) });
    expect(loss.points.map((p) => p.step)).toContain(1234);
    const valid = t.curves.find((c) => c.name === 'valid_ppl')!;
    expect(valid.stored).toBeUndefined();
    expect(valid.points.map((p) => p.value)).toEqual([400, 300, 200]);
    // Unasked, every point.
    expect((await api.trials.get({ id: trialId })).curves.find((c) => c.name === 'train_loss')!.points).toHaveLength(6000);
  });

  it('refuses fewer than 4 points, naming the field', async () => {
    const e = await api.trials.get({ id: trialId, points: 2 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TRPCError);
    expect((e as TRPCError).code).toBe('BAD_REQUEST');
    expect((e as TRPCError).message).toMatch(/points/);
  });
});
