// What crosses the wire into the database, against a real coordinator (PGlite in memory) over real
// websockets: diverged (non-finite) metric values are stored; values the database cannot hold
// (NUL, unpaired surrogates, int4 overflows) are refused as BAD_MESSAGE naming the field; and a
// message the database refuses anyway fails alone, not the honest messages batched with it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { encodeMessage, type CoordinatorMessage } from '@lmsweep/protocol';
import type { TrialStore } from '@lmsweep/db';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { GroupCommit } from '../src/group-commit.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { ProtocolClient } from './ws-client.ts';
import { launch, result, sleep, until } from './helpers.ts';

let c: Coordinator;
const logs: Record<string, unknown>[] = [];
const clients: ProtocolClient[] = [];

beforeAll(async () => {
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 120_000, log });
  await launch(c.store, 'name: wire\ndataset: { name: ptb, vocabSize: 300 }\nseeds: 12');
});
afterAll(async () => {
  for (const w of clients) w.close();
  await c?.close();
});

async function worker(name: string) {
  const w = await ProtocolClient.connect(c.url);
  clients.push(w);
  await w.hello(name);
  const a = await w.request({ type: 'claim' });
  if (a.type !== 'assign') throw new Error(`no trial for ${name}: ${JSON.stringify(a)}`);
  return { w, trial: a.trial, base: { trialId: a.trial.id, attempt: a.trial.attempt } };
}

describe('non-finite numbers on the wire', () => {
  it('a metric report with NaN and ±Infinity is acknowledged and stored as sent; the API names them', async () => {
    const { w, trial, base } = await worker('diverging');
    const values = [4.5, 3.25, Number.NaN, Infinity, -Infinity];
    const points = values.map((value, i) => ({ step: i + 1, epoch: i / 10, name: 'train_loss', value }));
    expect(encodeMessage({ points })).toContain('{"$f":"NaN"}');
    expect(await w.request({ type: 'metric', ...base, points })).toMatchObject({ type: 'ack' });
    const stored = (await c.store.getTrial(trial.id))!.curves.find((cv) => cv.name === 'train_loss')!;
    expect(stored.points.map((p) => p.value)).toEqual(values);
    const served = (await apiClient(c.url).trials.get.query({ id: trial.id })).curves.find((cv) => cv.name === 'train_loss')!;
    expect(served.points.map((p) => [p.value, p.nonFinite])).toEqual([
      [4.5, undefined],
      [3.25, undefined],
      [null, 'NaN'],
      [null, 'Infinity'],
      [null, '-Infinity'],
    ]);
  });

  it('a string is never a number: "NaN" as a value is refused naming it, "NaN" as a name is stored as a name', async () => {
    const { w, trial, base } = await worker('stringly');
    const raw = JSON.stringify({ type: 'metric', msgId: 'str-1', ...base, points: [{ step: 1, epoch: 0, name: 'train_loss', value: 'NaN' }] });
    w.sendRaw(raw);
    expect(await w.next((m) => 'replyTo' in m && m.replyTo === 'str-1')).toMatchObject({ type: 'error', code: 'BAD_MESSAGE', message: expect.stringMatching(/^points\.0\.value: expected a number/) });
    expect(await w.request({ type: 'metric', ...base, points: [{ step: 1, epoch: 0, name: 'NaN', value: 2 }] })).toMatchObject({ type: 'ack' });
    expect((await c.store.getTrial(trial.id))!.curves).toEqual([{ attempt: base.attempt, name: 'NaN', points: [expect.objectContaining({ step: 1, value: 2 })] }]);
  });
});

describe('values the database cannot hold', () => {
  it('are refused as BAD_MESSAGE naming the field, on the sender’s own lease too, and change nothing', async () => {
    const { w, trial, base } = await worker('careless');
    const before = await c.store.getTrial(trial.id);
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'metric', ...base, points: [{ step: 1, epoch: 0, name: 'loss\u0000', value: 1 }] }, 'points.0.name'],
      [{ type: 'metric', ...base, points: [{ step: 1, epoch: 0, name: 'ok', value: 1 }, { step: 2 ** 31, epoch: 0, name: 'ok', value: 1 }] }, 'points.1.step'],
      [{ type: 'metric', ...base, points: [{ step: 1, epoch: 0, name: 'x\ud800', value: 1 }] }, 'points.0.name'],
      [{ type: 'complete', ...base, result: { ...result(30), params: 2 ** 31 } }, 'result.params'],
      [{ type: 'complete', ...base, result: { ...result(30), backend: 'wasm\u0000' } }, 'result.backend'],
      [{ type: 'complete', ...base, result: { ...result(30), paramsByLayer: { 'lstm\u0000': 3 } } }, 'result.paramsByLayer.lstm\u0000'],
      [{ type: 'fail', ...base, kind: 'error', error: 'boom\u0000', retryable: true }, 'error'],
      [{ type: 'release', ...base, reason: '\udc00' }, 'reason'],
      [{ type: 'heartbeat', ...base, trialId: `${trial.id}\u0000`, progress: 0.5 }, 'trialId'],
    ];
    for (const [msg, field] of cases) {
      const reply = await w.request(msg);
      expect(reply, `${String(msg.type)} ${field}`).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
      expect((reply as Extract<CoordinatorMessage, { type: 'error' }>).message.startsWith(`${field}: `), (reply as { message: string }).message).toBe(true);
    }
    const hello = await ProtocolClient.connect(c.url);
    clients.push(hello);
    expect(await hello.request({ type: 'hello', protocol: 1, name: 'evil\u0000', host: 'h', backend: 'b', device: 'd', version: 'v' })).toMatchObject({ type: 'error', code: 'BAD_MESSAGE', message: expect.stringMatching(/^name: /) });
    expect(await c.store.getTrial(trial.id)).toEqual(before);
    // The lease still works.
    expect(await w.request({ type: 'complete', ...base, result: result(30) })).toMatchObject({ type: 'ack', duplicate: false });
    expect(logs.some((l) => l.msg === 'worker message failed')).toBe(false);
  });
});

describe('a spec the database cannot hold', () => {
  it('is refused by the API as INVALID_SPEC naming the field, not as an internal error', async () => {
    const api = apiClient(c.url);
    const err = await api.sweeps.create.mutate({ spec: { name: 'x', dataset: { name: 'ptb\u0000', vocabSize: 300 } } }).then(
      () => null,
      (e: unknown) => e as { data?: { lmsweepCode?: string; fieldIssues?: { path: string }[] } },
    );
    expect(err?.data).toMatchObject({ lmsweepCode: 'INVALID_SPEC', fieldIssues: [{ path: 'dataset.name' }] });
    expect(await api.sweeps.validate.query({ spec: 'name: "x\\ud800"' })).toMatchObject({ ok: false, issues: [{ path: 'name' }] });
  });
});

describe('a message the database refuses anyway', () => {
  // The schema refuses every such value we know of; to reach SQL past it, the store gets the
  // poisoned trial id ('poison…') with a NUL appended, as a value the schema missed would arrive.
  const restore: (() => void)[] = [];
  afterEach(() => {
    for (const r of restore.splice(0)) r();
  });

  /** Holds the first statement of `method` until released, so the messages sent meanwhile form the next batch; poisons 'poison…' trial ids. */
  function holdAndPoison<K extends 'heartbeatMany' | 'addMetricsMany'>(method: K) {
    const store = c.store as TrialStore;
    const orig = store[method].bind(store) as (items: { trialId: string }[], ...rest: unknown[]) => Promise<boolean[]>;
    let release!: () => void;
    let held: Promise<void> | null = new Promise<void>((r) => (release = r));
    const batches: string[][] = [];
    (store as unknown as Record<string, unknown>)[method] = async (items: { trialId: string }[], ...rest: unknown[]) => {
      const h = held;
      held = null;
      if (h) await h;
      batches.push(items.map((i) => i.trialId));
      return orig(items.map((i) => (i.trialId.startsWith('poison') ? { ...i, trialId: `${i.trialId}\u0000` } : i)), ...rest);
    };
    restore.push(() => delete (store as unknown as Record<string, unknown>)[method]);
    return { release: () => release(), batches };
  }

  /** Counts items submitted to any group commit. */
  function countSubmits() {
    const orig = GroupCommit.prototype.submit;
    const n = { submitted: 0 };
    GroupCommit.prototype.submit = function (this: GroupCommit<unknown, unknown>, item: unknown) {
      n.submitted++;
      return orig.call(this, item);
    } as typeof orig;
    restore.push(() => (GroupCommit.prototype.submit = orig));
    return n;
  }

  it('fails alone: the honest heartbeats and metrics batched with it succeed; one short log line each, no stack', async () => {
    const a = await worker('honest-a');
    const b = await worker('honest-b');
    const evil = await ProtocolClient.connect(c.url);
    clients.push(evil);
    await evil.hello('evil');
    const warm = await ProtocolClient.connect(c.url);
    clients.push(warm);
    await warm.hello('warm-up');
    const leaseOf = async (id: string) => (await c.store.getTrial(id))!.leaseExpiresAt!.getTime();
    const leases = [await leaseOf(a.trial.id), await leaseOf(b.trial.id)];
    const logsBefore = logs.length;
    const errorsOf = (w: ProtocolClient, from: number) => w.received.slice(from).filter((m) => m.type === 'error');

    // Heartbeats: a warm-up beat holds the first statement; the next batch is [a, poison, b].
    const hb = holdAndPoison('heartbeatMany');
    const count = countSubmits();
    const seen = [a.w.received.length, b.w.received.length, evil.received.length];
    warm.sendRaw(encodeMessage({ type: 'heartbeat', msgId: 'warm-hb', trialId: 'nobody', attempt: 1, progress: 0 }));
    await until('the warm-up beat to be submitted', () => count.submitted === 1, 10_000, 5);
    await sleep(20);
    a.w.sendRaw(encodeMessage({ type: 'heartbeat', msgId: 'a-hb', ...a.base, progress: 0.3 }));
    evil.sendRaw(encodeMessage({ type: 'heartbeat', msgId: 'evil-hb', trialId: 'poison-1', attempt: 1, progress: 0 }));
    b.w.sendRaw(encodeMessage({ type: 'heartbeat', msgId: 'b-hb', ...b.base, progress: 0.6 }));
    await until('the three beats to be queued', () => count.submitted === 4, 10_000, 5);
    hb.release();
    expect(await evil.next((m) => m.type === 'error')).toMatchObject({ type: 'error', code: 'INTERNAL' });
    // The held warm-up, the batch of three, then its halves down to the poisoned beat alone.
    expect(hb.batches).toEqual([['nobody'], [a.trial.id, 'poison-1', b.trial.id], [a.trial.id, 'poison-1'], [a.trial.id], ['poison-1'], [b.trial.id]]);
    await until('both honest leases to be extended', async () => (await leaseOf(a.trial.id)) > leases[0]! && (await leaseOf(b.trial.id)) > leases[1]!, 10_000);
    expect((await c.store.getTrial(a.trial.id))!.progress).toBe(0.3);
    expect((await c.store.getTrial(b.trial.id))!.progress).toBe(0.6);

    // Metrics: the same, and the honest reports are acknowledged and stored.
    const mt = holdAndPoison('addMetricsMany');
    const pts = (v: number) => [{ step: 7, epoch: 0, name: 'train_loss', value: v }];
    warm.sendRaw(encodeMessage({ type: 'metric', msgId: 'warm-m', trialId: 'nobody', attempt: 1, points: pts(1) }));
    await until('the warm-up report to be submitted', () => count.submitted === 5, 10_000, 5);
    await sleep(20);
    const acks = [a.w.next((m) => 'replyTo' in m && m.replyTo === 'a-m'), b.w.next((m) => 'replyTo' in m && m.replyTo === 'b-m')];
    a.w.sendRaw(encodeMessage({ type: 'metric', msgId: 'a-m', ...a.base, points: pts(Number.NaN) }));
    evil.sendRaw(encodeMessage({ type: 'metric', msgId: 'evil-m', trialId: 'poison-2', attempt: 1, points: pts(1) }));
    b.w.sendRaw(encodeMessage({ type: 'metric', msgId: 'b-m', ...b.base, points: pts(2) }));
    await until('the three reports to be queued', () => count.submitted === 8, 10_000, 5);
    mt.release();
    expect(await Promise.all(acks)).toEqual([
      { type: 'ack', replyTo: 'a-m' },
      { type: 'ack', replyTo: 'b-m' },
    ]);
    await until('the second INTERNAL', () => errorsOf(evil, seen[2]!).length === 2, 10_000);
    expect(mt.batches.slice(0, 2)).toEqual([['nobody'], [a.trial.id, 'poison-2', b.trial.id]]);
    expect((await c.store.getTrial(a.trial.id))!.curves.find((cv) => cv.name === 'train_loss')!.points.map((p) => p.value)).toEqual([Number.NaN]);
    expect((await c.store.getTrial(b.trial.id))!.curves.find((cv) => cv.name === 'train_loss')!.points.map((p) => p.value)).toEqual([2]);

    // The honest workers got no error; the poisoned one got INTERNAL twice, once per message.
    expect(errorsOf(a.w, seen[0]!)).toEqual([]);
    expect(errorsOf(b.w, seen[1]!)).toEqual([]);
    expect(errorsOf(evil, seen[2]!).map((m) => m.type === 'error' && m.code)).toEqual(['INTERNAL', 'INTERNAL']);
    // Logs: one line per failed batch, one per refused message, short and without a stack.
    const lines = logs.slice(logsBefore).filter((l) => (l.level as number) >= 40);
    expect(lines.map((l) => [l.msg, l.kind ?? null, l.size ?? null])).toEqual([
      ['group commit failed; retrying its items in smaller batches', 'heartbeat', 3],
      ['worker message failed in the database', null, null],
      ['group commit failed; retrying its items in smaller batches', 'metric', 3],
      ['worker message failed in the database', null, null],
    ]);
    for (const l of lines) {
      expect(l.err, JSON.stringify(l)).toBeUndefined();
      expect(String(l.reason)).toMatch(/22P05: unsupported Unicode escape sequence/);
      expect(JSON.stringify(l).length).toBeLessThan(400);
    }
  });
});
