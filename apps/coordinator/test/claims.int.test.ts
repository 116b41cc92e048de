// What a holder of the worker token cannot do to the fleet, against a real coordinator: take more
// than one trial at a time, claim-and-fail its way through the queue, or release another worker's
// trial.
import { afterAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@lmsweep/protocol';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { TokenBuckets } from '../src/claim-limits.ts';
import { ProtocolClient } from './ws-client.ts';
import { launch, result, sleep } from './helpers.ts';

const open: Coordinator[] = [];
const clients: ProtocolClient[] = [];
afterAll(async () => {
  for (const w of clients) w.close();
  await Promise.all(open.map((c) => c.close()));
});

async function coordinator(opts: Parameters<typeof startCoordinator>[0] = {}) {
  const c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 60_000, backoffBaseMs: 0, ...opts });
  open.push(c);
  return c;
}
async function worker(c: Coordinator, name: string) {
  const w = await ProtocolClient.connect(c.url);
  clients.push(w);
  const r = await w.request({ type: 'hello', protocol: PROTOCOL_VERSION, name, host: 'h', backend: 'none', device: 'test', version: 'test' });
  if (r.type !== 'welcome') throw new Error('no welcome');
  return { w, id: r.workerId, key: r.workerKey };
}
const SPEC = (n: number, name = 'q') => `name: ${name}\ndataset: { name: ptb, vocabSize: 300 }\ngrid: { training.lr: [${Array.from({ length: n }, (_, i) => (i + 1) / 10).join(', ')}] }\nmaxAttempts: 1`;
const failForGood = (w: ProtocolClient, t: { id: string; attempt: number }) => w.request({ type: 'fail', trialId: t.id, attempt: t.attempt, kind: 'error', error: 'nope', retryable: false });

describe('claims', () => {
  it('one trial at a time per worker: a second claim while holding one is idle, also from a second connection', async () => {
    const c = await coordinator();
    await launch(c.store, SPEC(5));
    const a = await worker(c, 'greedy');
    const first = await a.w.request({ type: 'claim' });
    expect(first.type).toBe('assign');
    if (first.type !== 'assign') return;
    expect(await a.w.request({ type: 'claim' })).toMatchObject({ type: 'idle' });
    // The same worker again on another socket (its id and key): still one.
    const again = await ProtocolClient.connect(c.url);
    clients.push(again);
    await again.request({ type: 'hello', protocol: PROTOCOL_VERSION, name: 'greedy', host: 'h', backend: 'none', device: 'test', version: 'test', workerId: a.id, workerKey: a.key });
    expect(await again.request({ type: 'claim' })).toMatchObject({ type: 'idle' });
    expect((await c.store.listTrials({ status: 'running' })).items.map((t) => t.id)).toEqual([first.trial.id]);
    // Reported: the next claim gets the next trial.
    expect(await a.w.request({ type: 'complete', trialId: first.trial.id, attempt: first.trial.attempt, result: result(50) })).toMatchObject({ type: 'ack' });
    expect(await a.w.request({ type: 'claim' })).toMatchObject({ type: 'assign' });
  });

  it('a claim loop that fails what it takes gets idle with the wait once its burst is spent; the queue keeps the rest', async () => {
    const c = await coordinator({ claimLimits: { burst: 3, perMinute: 60 } });
    const sweep = await launch(c.store, SPEC(20));
    const a = await worker(c, 'looper');
    const replies: ({ type: 'assign' } | { type: 'idle'; retryMs: number })[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 6; i++) {
      const r = await a.w.request({ type: 'claim' });
      if (r.type === 'idle') replies.push({ type: 'idle', retryMs: r.retryMs });
      else {
        expect(r.type).toBe('assign');
        replies.push({ type: 'assign' });
        if (r.type === 'assign') await failForGood(a.w, r.trial);
      }
    }
    const elapsed = Date.now() - t0;
    expect(replies.slice(0, 3).map((r) => r.type)).toEqual(['assign', 'assign', 'assign']);
    // Past the burst the bucket gives one claim a second, however long the loop took: what waits is told
    // how long (at most a second), and no more is taken than the refill allows.
    for (const r of replies.slice(3)) {
      if (r.type === 'idle') expect(r.retryMs).toSatisfy((ms: number) => ms > 0 && ms <= 1000);
    }
    const taken = replies.filter((r) => r.type === 'assign').length;
    expect(taken).toBeLessThanOrEqual(3 + Math.floor(elapsed / 1000));
    expect((await c.store.getSweep(sweep.id))!.counts).toMatchObject({ failed: taken, queued: 20 - taken });
    // After the wait it was told, one more.
    const last = replies.at(-1)!;
    await sleep((last.type === 'idle' ? last.retryMs : 1000) + 50);
    expect((await a.w.request({ type: 'claim' })).type).toBe('assign');
  });

  it('a worker whose trials succeed is never slowed: each success gives its claim back', async () => {
    const c = await coordinator({ claimLimits: { burst: 2, perMinute: 1 } });
    await launch(c.store, SPEC(8));
    const a = await worker(c, 'honest');
    for (let i = 0; i < 8; i++) {
      const r = await a.w.request({ type: 'claim' });
      expect(r.type).toBe('assign');
      if (r.type === 'assign') expect(await a.w.request({ type: 'complete', trialId: r.trial.id, attempt: r.trial.attempt, result: result(50 + i) })).toMatchObject({ type: 'ack' });
    }
  });

  it('new worker ids from one address share its bucket (loopback counted here)', async () => {
    const c = await coordinator({ claimLimits: { burst: 10, addressBurst: 4, addressPerMinute: 1, exemptLoopback: false } });
    await launch(c.store, SPEC(10));
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { w } = await worker(c, `sock-puppet-${i}`);
      for (let k = 0; k < 2; k++) {
        const r = await w.request({ type: 'claim' });
        got.push(r.type);
        if (r.type === 'assign') await failForGood(w, r.trial);
      }
    }
    expect(got).toEqual(['assign', 'assign', 'assign', 'assign', 'idle', 'idle']);
  });

  it('token buckets refill over time and never past their size', () => {
    let t = 0;
    const b = new TokenBuckets(2, 60, () => t);
    b.take('w');
    b.take('w');
    expect(b.waitMs('w')).toBe(1000);
    t += 500;
    expect(b.waitMs('w')).toBe(500);
    t += 10_000;
    expect(b.waitMs('w')).toBe(0);
    b.take('w');
    b.take('w');
    b.give('w');
    b.give('w');
    b.give('w');
    b.take('w');
    b.take('w');
    expect(b.waitMs('w')).toBe(1000); // two given back, not three
  });
});

describe('release', () => {
  it('of another worker\'s trial answers LEASE_LOST and changes nothing; the holder\'s own release is acknowledged', async () => {
    const c = await coordinator();
    await launch(c.store, SPEC(1));
    const holder = await worker(c, 'holder');
    const other = await worker(c, 'other');
    const a = await holder.w.request({ type: 'claim' });
    if (a.type !== 'assign') throw new Error('no trial');
    const before = await c.store.getTrial(a.trial.id);
    expect(await other.w.request({ type: 'release', trialId: a.trial.id, attempt: a.trial.attempt, reason: 'mine now' })).toMatchObject({ type: 'error', code: 'LEASE_LOST', trialId: a.trial.id });
    expect(await holder.w.request({ type: 'release', trialId: a.trial.id, attempt: a.trial.attempt + 1, reason: 'wrong attempt' })).toMatchObject({ type: 'error', code: 'LEASE_LOST' });
    expect(await c.store.getTrial(a.trial.id)).toEqual(before);
    expect(await holder.w.request({ type: 'release', trialId: a.trial.id, attempt: a.trial.attempt, reason: 'stopping' })).toMatchObject({ type: 'ack' });
    expect(await c.store.getTrial(a.trial.id)).toMatchObject({ status: 'queued' });
    // …and releasing it again is refused: nothing changed the second time.
    expect(await holder.w.request({ type: 'release', trialId: a.trial.id, attempt: a.trial.attempt, reason: 'again' })).toMatchObject({ type: 'error', code: 'LEASE_LOST' });
  });
});
