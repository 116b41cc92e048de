// The worker gateway against a real coordinator (PGlite in memory) and real websockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSweepSpec, expandSweep } from '@lmsweep/sweep';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { CLOSE_NOT_HELLO } from '../src/gateway.ts';
import { ProtocolClient } from './ws-client.ts';
import { result, until } from './helpers.ts';


let c: Coordinator;
let gwSweep: string;

beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 600, reapIntervalMs: 100, backoffBaseMs: 0 });
  const spec = parseSweepSpec('name: gw\ndataset: { name: ptb, vocabSize: 300 }\ngrid: { model.hidden: [8, 16] }\nseeds: 2\nmaxAttempts: 3');
  gwSweep = (await c.store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec) })).id;
});
afterAll(async () => {
  await c?.close();
});

describe('worker gateway', () => {
  it('answers malformed, unknown and out-of-range messages with an error and keeps serving; closes on an oversized one', async () => {
    const w = await ProtocolClient.connect(c.url);
    await w.hello();
    w.sendRaw('this is not json');
    expect(await w.next()).toMatchObject({ type: 'error', code: 'BAD_MESSAGE', message: expect.stringMatching(/JSON/) });
    w.sendRaw(JSON.stringify({ type: 'teleport', msgId: 'x1' }));
    expect(await w.next()).toMatchObject({ type: 'error', code: 'BAD_MESSAGE', replyTo: 'x1', message: expect.stringContaining('type') });
    w.sendRaw(JSON.stringify({ type: 'heartbeat', msgId: 'x2', trialId: 't', attempt: 1, progress: 7 }));
    expect(await w.next()).toMatchObject({ type: 'error', code: 'BAD_MESSAGE', replyTo: 'x2', message: expect.stringContaining('progress') });
    expect(await w.request({ type: 'claim' })).toMatchObject({ type: 'assign' });
    // Oversized: the socket is closed with "message too big", the coordinator lives on.
    w.sendRaw('x'.repeat(2 << 20));
    await until('the socket to close', () => w.closed !== null, 5_000, 20);
    expect(w.closed?.code).toBe(1009);
    const api = apiClient(c.url);
    expect(await api.health.query()).toMatchObject({ ok: true });
    const w2 = await ProtocolClient.connect(c.url);
    await w2.hello('after-the-storm');
    expect(['assign', 'idle']).toContain((await w2.request({ type: 'claim' })).type);
    w2.close();
  });

  it.each([
    ['not JSON', 'this is not json', { code: 'BAD_MESSAGE', message: expect.stringMatching(/JSON/) }],
    ['an unknown type', JSON.stringify({ type: 'teleport', msgId: 'x1' }), { code: 'BAD_MESSAGE', replyTo: 'x1' }],
    ['an invalid hello', JSON.stringify({ type: 'hello', msgId: 'x2' }), { code: 'BAD_MESSAGE', replyTo: 'x2' }],
    ['a valid message other than hello', JSON.stringify({ type: 'claim', msgId: 'x3' }), { code: 'NOT_HELLO', replyTo: 'x3' }],
  ])('answers a first message that is %s, then closes the socket without reading on', async (_what, frame, reply) => {
    const w = await ProtocolClient.connect(c.url);
    w.sendRaw(frame);
    w.sendRaw(JSON.stringify({ type: 'claim', msgId: 'after' })); // sent with it: never answered
    expect(await w.next()).toMatchObject({ type: 'error', ...reply });
    await until('the socket to close', () => w.closed !== null, 5_000, 20);
    expect(w.closed).toEqual({ code: CLOSE_NOT_HELLO, reason: 'the first message must be a valid hello' });
    expect(w.received).toHaveLength(1);
  });

  it('refuses a stale worker’s late report once its lease went to another worker', async () => {
    const stale = await ProtocolClient.connect(c.url);
    await stale.hello('stale');
    const a = await stale.request({ type: 'claim' });
    expect(a.type).toBe('assign');
    if (a.type !== 'assign') return;
    // No heartbeats: the lease (600 ms) expires and the reaper requeues the trial.
    const fresh = await ProtocolClient.connect(c.url);
    await fresh.hello('fresh');
    let b = await fresh.request({ type: 'claim' });
    const deadline = Date.now() + 10_000;
    while (!(b.type === 'assign' && b.trial.id === a.trial.id) && Date.now() < deadline) {
      if (b.type === 'assign') await fresh.request({ type: 'complete', trialId: b.trial.id, attempt: b.trial.attempt, result: result(50) });
      await new Promise((r) => setTimeout(r, 100));
      b = await fresh.request({ type: 'claim' });
    }
    expect(b).toMatchObject({ type: 'assign', trial: { id: a.trial.id, attempt: a.trial.attempt + 1 } });
    if (b.type !== 'assign') return;
    // The stale worker wakes up and reports: refused, fenced by attempt.
    const late = await stale.request({ type: 'complete', trialId: a.trial.id, attempt: a.trial.attempt, result: result(1) });
    expect(late).toMatchObject({ type: 'error', code: 'LEASE_LOST', trialId: a.trial.id });
    const lateMetric = await stale.request({ type: 'metric', trialId: a.trial.id, attempt: a.trial.attempt, points: [{ step: 1, epoch: 0, name: 'train_loss', value: 9 }] });
    expect(lateMetric).toMatchObject({ type: 'error', code: 'LEASE_LOST' });
    // The new holder's report wins, once; a resent copy is a harmless duplicate.
    const ok = { type: 'complete', trialId: b.trial.id, attempt: b.trial.attempt, result: result(42), msgId: 'done-1' };
    expect(await fresh.request(ok)).toMatchObject({ type: 'ack', duplicate: false });
    expect(await fresh.request({ ...ok, msgId: 'done-2' })).toMatchObject({ type: 'ack', duplicate: true });
    const t = await apiClient(c.url).trials.get.query({ id: a.trial.id });
    expect(t).toMatchObject({ status: 'succeeded', validPpl: 42, attempt: a.trial.attempt + 1 });
    stale.close();
    fresh.close();
  });

  it('tells a worker to stop when its sweep is cancelled', async () => {
    await c.store.cancelSweep(gwSweep); // whatever the earlier tests left queued is out of the way
    const spec = parseSweepSpec('name: to-cancel\ndataset: { name: ptb, vocabSize: 300 }\nseeds: 2');
    const own = await c.store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec) });
    const w = await ProtocolClient.connect(c.url);
    await w.hello('cancel-me');
    const a = await w.request({ type: 'claim' });
    expect(a.type).toBe('assign');
    if (a.type !== 'assign') return;
    const cancel = w.next((m) => m.type === 'cancel');
    expect(a.trial.sweepId).toBe(own.id);
    expect(await apiClient(c.url).sweeps.cancel.mutate({ id: own.id })).toEqual({ cancelled: 2, running: 1 });
    expect(await cancel).toMatchObject({ type: 'cancel', trialId: a.trial.id, attempt: a.trial.attempt });
    expect((await apiClient(c.url).sweeps.get.query({ id: own.id })).status).toBe('cancelled');
    // Its late report changes nothing.
    expect(await w.request({ type: 'complete', trialId: a.trial.id, attempt: a.trial.attempt, result: result(3) })).toMatchObject({ type: 'error', code: 'LEASE_LOST' });
    w.close();
  });
});
