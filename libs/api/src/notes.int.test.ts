// Notes through the API on a real database (PGlite in memory): written by a caller who may write,
// read back with the sweep and the trial; refused to an anonymous caller, and when too long,
// naming the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCError } from '@trpc/server';
import type { Db } from '@lmsweep/db';
import { TrialStore } from '@lmsweep/db';
import { memoryDb } from '@lmsweep/db/testing';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { appRouter } from './root.ts';

let db: Db;
let store: TrialStore;
let sweepId = '';

beforeAll(async () => {
  db = await memoryDb();
  store = new TrialStore(db);
  const spec = parseSweepSpec({ name: 'notes', dataset: { name: 'ptb', vocabSize: 300 } });
  sweepId = (await store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec) })).id;
});
afterAll(async () => {
  await db?.close();
});

describe('notes', () => {
  it('a writer notes a sweep and a trial; everyone reads them with the sweep and the trial', async () => {
    const writer = appRouter.createCaller({ db, store, canWrite: true });
    const reader = appRouter.createCaller({ db, store, canWrite: false });
    await writer.sweeps.setNote({ id: sweepId, note: 'lr 0.1 **wins**' });
    expect((await reader.sweeps.get({ id: sweepId })).note).toBe('lr 0.1 **wins**');
    const [t] = (await reader.trials.list({ sweepId })).items;
    await writer.trials.setNote({ id: t!.id, note: 'rerun' });
    expect((await reader.trials.get({ id: t!.id })).note).toBe('rerun');
  });

  it('refuses an anonymous writer, a missing sweep, and a note over 20000 characters, naming note', async () => {
    const reader = appRouter.createCaller({ db, store, canWrite: false });
    const writer = appRouter.createCaller({ db, store, canWrite: true });
    expect(((await reader.sweeps.setNote({ id: sweepId, note: 'x' }).catch((e: unknown) => e)) as TRPCError).code).toBe('UNAUTHORIZED');
    expect(((await writer.trials.setNote({ id: 'nope', note: 'x' }).catch((e: unknown) => e)) as TRPCError).code).toBe('NOT_FOUND');
    const long = (await writer.sweeps.setNote({ id: sweepId, note: 'x'.repeat(20_001) }).catch((e: unknown) => e)) as TRPCError;
    expect(long.code).toBe('BAD_REQUEST');
    expect(long.message).toMatch(/note/);
    expect((await reader.sweeps.get({ id: sweepId })).note).toBe('lr 0.1 **wins**');
  });
});
