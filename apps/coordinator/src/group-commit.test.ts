// Group commit: batches answer each item on its own, and one item the database refuses fails
// alone — first with a fake statement, then with the real store on PGlite, where the bad item is
// injected below the wire schema (which refuses such values before they get here).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TrialStore, type ClaimedTrial, type Db } from '@lmsweep/db';
import { memoryDb } from '@lmsweep/db/testing';
import type { TrialResult } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { GroupBatchError, GroupCommit, GroupItemError, isDataError, shortReason } from './group-commit.ts';

/** Submits every item in one turn of the event loop (so they form one batch) and settles them all. */
const submitAll = <I, O>(g: GroupCommit<I, O>, items: I[]) => Promise.allSettled(items.map((i) => g.submit(i)));

/** An error shaped as Prisma throws it for a failed raw query, with the driver adapter's cause. */
const driverError = (cause: Record<string, unknown>, message = 'Raw query failed') =>
  Object.assign(new Error(`\nInvalid \`prisma.$queryRaw()\` invocation:\n\n\n${message}`), { name: 'PrismaClientKnownRequestError', code: 'P2010', meta: { driverAdapterError: { name: 'DriverAdapterError', cause } } });

describe('GroupCommit', () => {
  it('runs the items that arrive together as one batch and answers each in order', async () => {
    const batches: number[][] = [];
    const g = new GroupCommit(async (xs: number[]) => (batches.push(xs), xs.map((x) => x * 10)));
    expect(await Promise.all([1, 2, 3].map((x) => g.submit(x)))).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await Promise.all([4, 5, 6, 7, 8].map((x) => g.submit(x)))).toEqual([40, 50, 60, 70, 80]);
    // maxBatch splits a queue without anything failing.
    const small = new GroupCommit(async (xs: number[]) => (batches.push(xs), xs), 2);
    expect(await Promise.all([1, 2, 3].map((x) => small.submit(x)))).toEqual([1, 2, 3]);
    expect(batches.slice(-2)).toEqual([[1, 2], [3]]);
  });

  it('a statement that fails is retried in halves: only the items that fail alone are rejected, with one short reason', async () => {
    const calls: number[][] = [];
    const failed: [number, string][] = [];
    const g = new GroupCommit(
      async (xs: number[]) => {
        calls.push(xs);
        if (xs.some((x) => x < 0)) throw driverError({ kind: 'postgres', code: '22003', message: 'value out of range' }, `Raw query failed: ${'~'.repeat(1500)}`);
        return xs.map((x) => x + 1);
      },
      500,
      { onBatchFailed: (size, reason) => failed.push([size, reason]) },
    );
    const items = Array.from({ length: 500 }, (_, i) => (i === 137 || i === 411 ? -i : i));
    const out = await submitAll(g, items);
    items.forEach((x, i) => {
      const o = out[i]!;
      if (x < 0) {
        expect(o.status).toBe('rejected');
        const e = (o as PromiseRejectedResult).reason as GroupItemError;
        expect(e).toBeInstanceOf(GroupItemError);
        expect(e.message).toBe('22003: value out of range');
        expect((e.cause as Error).message).toMatch(/Raw query failed/);
      } else expect(o).toEqual({ status: 'fulfilled', value: x + 1 });
    });
    // One line for the batch; a few statements (two bad items: about 4·log₂ 500), not one per item.
    expect(failed).toEqual([[500, '22003: value out of range']]);
    expect(calls.length).toBeLessThanOrEqual(1 + 4 * Math.ceil(Math.log2(500)));
    // Every good item answered exactly once.
    expect(calls.filter((c) => !c.some((x) => x < 0)).flat().sort((a, b) => a - b)).toEqual(items.filter((x) => x >= 0));
    // A lone item that fails is rejected without a batch line.
    await expect(g.submit(-1)).rejects.toBeInstanceOf(GroupItemError);
    expect(failed).toHaveLength(1);
  });

  it('a database that is down fails the whole batch in one statement, every item rejected once, one line', async () => {
    // PGlite closed, PostgreSQL unreachable (as adapter-pg reports it), a connection refused, a serialization failure
    const outages = [
      new Error('PGlite is closed'),
      driverError({ kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 }, "Raw query failed. Code: `N/A`. Message: `Can't reach database server at 127.0.0.1:5432`"),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      driverError({ kind: 'postgres', originalCode: '40001', code: '40001', message: 'could not serialize access' }),
    ];
    for (const outage of outages) {
      let calls = 0;
      const lines: [number, string][] = [];
      const g = new GroupCommit(
        async (): Promise<number[]> => {
          calls++;
          throw outage;
        },
        500,
        { onBatchError: (size, reason) => lines.push([size, reason]), onBatchFailed: () => lines.push([-1, 'split']) },
      );
      const out = await submitAll(g, Array.from({ length: 500 }, (_, i) => i));
      expect(calls, outage.message).toBe(1); // not 2n − 1 = 999
      expect(out.every((o) => o.status === 'rejected' && o.reason instanceof GroupBatchError && (o.reason as Error).cause === outage)).toBe(true);
      expect(lines).toEqual([[500, shortReason(outage)]]);
    }
  });

  it('isDataError: SQLSTATE classes 22, 23 and 54 (either driver), and adapter-pg\'s kinds for them; nothing else', () => {
    const data = [
      { kind: 'postgres', code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00' }, // PGlite: NUL
      { kind: 'postgres', code: '22P05', message: 'unsupported Unicode escape sequence' },
      { originalCode: '22003', kind: 'ValueOutOfRange', cause: 'value "2147483648" is out of range for type integer' }, // adapter-pg: int4
      { originalCode: '23505', kind: 'UniqueConstraintViolation', constraint: { fields: ['id'] } },
      { kind: 'postgres', code: '54000', message: 'index row size exceeds maximum' },
      { kind: 'NullConstraintViolation', constraint: { fields: ['x'] } },
    ];
    for (const cause of data) expect(isDataError(driverError(cause)), JSON.stringify(cause)).toBe(true);
    const other = [
      { kind: 'DatabaseNotReachable', host: 'h', port: 1 },
      { kind: 'postgres', code: '42601', message: 'syntax error' },
      { kind: 'postgres', code: '57P01', message: 'terminating connection due to administrator command' },
      { kind: 'TooManyConnections', cause: 'sorry, too many clients already' },
      { kind: 'postgres', originalCode: '08006', code: '08006', message: 'connection failure' },
    ];
    for (const cause of other) expect(isDataError(driverError(cause)), JSON.stringify(cause)).toBe(false);
    expect(isDataError(new Error('PGlite is closed'))).toBe(false);
    expect(isDataError(null)).toBe(false);
  });

  it('shortReason: the database’s own code and message where the driver gives them, else the last line, at most 200 characters', () => {
    const prisma = Object.assign(new Error('\nInvalid `prisma.$queryRaw()` invocation:\n\nRaw query failed. Code: `N/A`. Message: `undefined`'), {
      meta: { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'postgres', code: '22P05', message: 'unsupported Unicode escape sequence' } } },
    });
    expect(shortReason(prisma)).toBe('22P05: unsupported Unicode escape sequence');
    expect(shortReason(new Error('first\n\n  last line  \n'))).toBe('last line');
    expect(shortReason(new Error('x'.repeat(1000)))).toHaveLength(200);
    expect(shortReason('plain')).toBe('plain');
  });
});

describe('GroupCommit over the real store (PGlite): a bad item next to honest ones', () => {
  let db: Db;
  let store: TrialStore;
  const LEASE = 60_000;
  const result = (params: number): TrialResult => ({ params, paramsByLayer: { all: params }, validPpl: 50, testPpl: 49, steps: 1, tokens: 10, seconds: 1, tokensPerSecond: 10, vocabSize: 10, backend: 'test' });
  /** Values the wire schema refuses now, which break the statement when they reach SQL. */
  const NUL_ID = 't_\u0000';
  const TOO_BIG = 2 ** 31;

  beforeAll(async () => {
    db = await memoryDb();
    store = new TrialStore(db);
  });
  afterAll(async () => {
    await db?.close();
  });
  let trials: ClaimedTrial[];
  beforeEach(async () => {
    await db.prisma.$executeRawUnsafe('TRUNCATE "ArtifactChunk", "Artifact", "TrialMetric", "Trial", "Sweep", "Worker"');
    const spec = parseSweepSpec('name: gc\ndataset: { name: ptb, vocabSize: 300 }\nseeds: 6');
    await store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec) });
    trials = (await store.claimMany(['wa', 'wb', 'wc'], LEASE)) as ClaimedTrial[];
    expect(trials.every(Boolean)).toBe(true);
  });
  const statuses = (out: PromiseSettledResult<unknown>[]) => out.map((o) => (o.status === 'fulfilled' ? o.value : ((o.reason as Error).name)));

  it('heartbeats: the honest beats in the batch extend their leases', async () => {
    const g = new GroupCommit((beats: Parameters<TrialStore['heartbeatMany']>[0]) => store.heartbeatMany(beats, LEASE));
    const [a, b] = trials as [ClaimedTrial, ClaimedTrial];
    const out = await submitAll(g, [
      { trialId: a.id, workerId: 'wa', attempt: 1, progress: 0.25 },
      { trialId: NUL_ID, workerId: 'evil', attempt: 1, progress: 0 },
      { trialId: b.id, workerId: 'wb', attempt: 1, progress: 0.5 },
      { trialId: b.id, workerId: 'wx', attempt: 1, progress: 0.9 }, // not wx's lease: answered false, as alone
    ]);
    expect(statuses(out)).toEqual([true, 'GroupItemError', true, false]);
    expect(((out[1] as PromiseRejectedResult).reason as Error).message).toMatch(/Unicode|\\u0000/);
    const rows = await db.prisma.trial.findMany({ where: { id: { in: [a.id, b.id] } }, orderBy: { ordinal: 'asc' } });
    expect(rows.map((r) => r.progress)).toEqual([0.25, 0.5]);
  });

  it('metrics: the honest reports in the batch are stored, NaN included', async () => {
    const g = new GroupCommit((reports: Parameters<TrialStore['addMetricsMany']>[0]) => store.addMetricsMany(reports), 200);
    const [a, b] = trials as [ClaimedTrial, ClaimedTrial];
    const pt = (step: number, value: number, name = 'train_loss') => ({ step, epoch: 0, name, value });
    const out = await submitAll(g, [
      { trialId: a.id, workerId: 'wa', attempt: 1, points: [pt(1, 5), pt(2, Number.NaN)] },
      { trialId: b.id, workerId: 'wb', attempt: 1, points: [pt(TOO_BIG, 1)] }, // b's own lease, an int4 overflow
      { trialId: b.id, workerId: 'wb', attempt: 1, points: [pt(1, 7)] },
      { trialId: 'nobody', workerId: 'evil', attempt: 1, points: [pt(1, 1, 'x\u0000')] },
    ]);
    expect(statuses(out)).toEqual([true, 'GroupItemError', true, 'GroupItemError']);
    const stored = await db.prisma.trialMetric.findMany({ orderBy: [{ trialId: 'asc' }, { step: 'asc' }] });
    expect(stored.map((m) => [m.trialId, m.step, m.value]).sort()).toEqual(
      [
        [a.id, 1, 5],
        [a.id, 2, Number.NaN],
        [b.id, 1, 7],
      ].sort(),
    );
  });

  it('a closed database: a batch of 500 heartbeats is one failing statement, not 999', async () => {
    const down = await memoryDb();
    const downStore = new TrialStore(down);
    await down.close();
    let statements = 0;
    const g = new GroupCommit((beats: Parameters<TrialStore['heartbeatMany']>[0]) => (statements++, downStore.heartbeatMany(beats, LEASE)));
    const out = await submitAll(g, Array.from({ length: 500 }, (_, i) => ({ trialId: `t${i}`, workerId: `w${i}`, attempt: 1, progress: 0 })));
    expect(statements).toBe(1);
    expect(out.every((o) => o.status === 'rejected' && o.reason instanceof GroupBatchError)).toBe(true);
  });

  it('results and claims: the honest ones in the batch go through', async () => {
    const [a, b, c] = trials as [ClaimedTrial, ClaimedTrial, ClaimedTrial];
    const results = new GroupCommit((items: Parameters<TrialStore['completeMany']>[0]) => store.completeMany(items));
    const out = await submitAll(results, [
      { trialId: a.id, workerId: 'wa', attempt: 1, result: result(1000) },
      { trialId: b.id, workerId: 'wb', attempt: 1, result: result(TOO_BIG) }, // b's own lease: params is an int4 column
      { trialId: c.id, workerId: 'wc', attempt: 1, result: { ...result(10), paramsByLayer: { 'lstm\u0000': 10 } } },
    ]);
    expect(statuses(out)).toEqual(['ok', 'GroupItemError', 'GroupItemError']);
    expect((await store.getTrial(a.id))!).toMatchObject({ status: 'succeeded', params: 1000 });
    expect((await store.getTrial(b.id))!).toMatchObject({ status: 'running', params: null });

    const claims = new GroupCommit((ids: string[]) => store.claimMany(ids, LEASE));
    const got = await submitAll(claims, ['wd', 'w\u0000', 'we']);
    expect(got.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const [d, , e] = got.map((o) => (o.status === 'fulfilled' ? (o.value as ClaimedTrial | null) : null));
    expect(d?.id).toBeTruthy();
    expect(e?.id).toBeTruthy();
    expect(d!.id).not.toBe(e!.id);
  });
});
