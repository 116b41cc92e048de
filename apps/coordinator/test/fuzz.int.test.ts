// Property/fuzz test: thousands of generated bad messages (random JSON, wrong types, huge strings,
// unknown types, binary frames, well-formed reports for trials the sender does not hold, and
// well-formed messages with one value the database cannot hold: a NUL or an unpaired surrogate in
// any string field, an integer past 2³¹) thrown at a running coordinator over real websockets.
// Each is refused, none with INTERNAL; afterwards it still serves and no trial changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TRPCClientError } from '@trpc/client';
import fc from 'fast-check';
import { CoordinatorMessage, encodeMessage, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, WorkerMessage } from '@lmsweep/protocol';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { ProtocolClient } from './ws-client.ts';
import { launch, result } from './helpers.ts';

let c: Coordinator;
let holder: ProtocolClient;
let trialIds: string[] = [];

beforeAll(async () => {
  // A long lease: nothing may change by itself while the fuzzer runs.
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 120_000, backoffBaseMs: 0 });
  await launch(c.store, 'name: fuzz\ndataset: { name: ptb, vocabSize: 300 }\ngrid: { model.hidden: [8, 16, 32] }\nseeds: 2');
  // A real worker: one trial succeeded (with metrics), one running, the rest queued.
  holder = await ProtocolClient.connect(c.url);
  await holder.hello('holder');
  const a = await holder.request({ type: 'claim' });
  if (a.type !== 'assign') throw new Error('no trial');
  await holder.request({ type: 'metric', trialId: a.trial.id, attempt: 1, points: [{ step: 1, epoch: 0, name: 'train_loss', value: 5 }] });
  await holder.request({ type: 'complete', trialId: a.trial.id, attempt: 1, result: result(40) });
  expect((await holder.request({ type: 'claim' })).type).toBe('assign');
  trialIds = (await c.store.listTrials({})).items.map((t) => t.id);
});
afterAll(async () => {
  holder?.close();
  await c?.close();
});

async function snapshot() {
  const { items } = await c.store.listTrials({ limit: 1000 });
  const trials = await Promise.all(items.map((t) => c.store.getTrial(t.id)));
  return trials.map((t) => ({
    id: t!.id,
    status: t!.status,
    attempt: t!.attempt,
    maxAttempts: t!.maxAttempts,
    leaseOwner: t!.leaseOwner,
    leaseExpiresAt: t!.leaseExpiresAt?.getTime() ?? null,
    validPpl: t!.validPpl,
    result: t!.result,
    error: t!.error,
    metrics: t!.curves.map((cv) => `${cv.attempt}/${cv.name}:${cv.points.length}`),
  }));
}

// ---- generators ----
const TYPES = ['hello', 'claim', 'heartbeat', 'metric', 'complete', 'fail', 'release'];
const anyTrialId = () => fc.oneof(fc.constantFrom(...trialIds), fc.string({ maxLength: 120 }));
const attempt = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer(), fc.double());
const msgId = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constant(''), fc.integer(), fc.constant(null));
const number = fc.oneof(fc.double(), fc.integer(), fc.constant(Number.NaN), fc.constant(Infinity));
const junk = fc.oneof(fc.string(), number, fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 5 }), fc.object({ maxDepth: 2 }));

/** Well-formed reports for trials this client does not hold (or with a wrong attempt). */
const foreignReport = () =>
  fc.oneof(
    fc.record({ type: fc.constant('heartbeat'), trialId: anyTrialId(), attempt, progress: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), number) }),
    fc.record({ type: fc.constant('metric'), trialId: anyTrialId(), attempt, points: fc.array(fc.record({ step: fc.nat(1000), epoch: fc.nat(3), name: fc.constantFrom('train_loss', 'valid_ppl'), value: number }), { minLength: 1, maxLength: 5 }) }),
    fc.record({ type: fc.constant('complete'), trialId: anyTrialId(), attempt, result: fc.oneof(fc.constant(result(1)), fc.record({ validPpl: number, params: number })) }),
    fc.record({ type: fc.constant('fail'), trialId: anyTrialId(), attempt, kind: fc.constantFrom('error', 'diverged', 'oom', 'boom'), error: fc.string(), retryable: fc.boolean() }),
    fc.record({ type: fc.constant('release'), trialId: anyTrialId(), attempt, reason: fc.string() }),
  );
/** A message of a known type with fields of the wrong type, missing or extra. */
const wrongTypes = fc.record({ type: fc.constantFrom(...TYPES), trialId: junk, attempt: junk, progress: junk, points: junk, result: junk, kind: junk, protocol: junk, name: junk }, { requiredKeys: ['type'] });
const unknownType = fc.record({ type: fc.oneof(fc.string(), number, fc.constant(null)).filter((t) => !TYPES.includes(t as string)), msgId: fc.string() });
const hello = fc.record({ type: fc.constant('hello'), protocol: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.integer()), name: fc.string({ maxLength: 300 }), host: fc.string(), backend: fc.string(), device: fc.string(), version: fc.string({ maxLength: 60 }), workerId: fc.option(fc.string({ minLength: 1, maxLength: 120 }), { nil: undefined }) }, { requiredKeys: ['type'] });
/** Huge but under the size cap (a few over it: the socket is closed with 1009, the coordinator lives on). */
const huge = fc.record({ size: fc.oneof(fc.integer({ min: 100_000, max: MAX_MESSAGE_BYTES - 200 }), fc.constant(MAX_MESSAGE_BYTES + 10)), type: fc.constantFrom('metric', 'fail', 'hello', 'nope') }).map(({ size, type }) => JSON.stringify({ type, msgId: 'huge', trialId: trialIds[0], attempt: 1, error: 'e'.repeat(size), name: 'n'.repeat(size) }).slice(0, size));

const withMsgId = <T extends object>(g: fc.Arbitrary<T>) => fc.tuple(g, msgId).map(([m, id]) => encodeMessage({ ...m, msgId: id }));
/** One valid message of every type (every optional field present), naming real trials. */
const template = (): fc.Arbitrary<Record<string, unknown>> => {
  const word = fc.string({ minLength: 1, maxLength: 12 });
  const base = { msgId: fc.string({ minLength: 1, maxLength: 20 }), trialId: fc.constantFrom(...trialIds), attempt: fc.integer({ min: 1, max: 4 }) };
  const point = fc.record({ step: fc.nat(1000), epoch: fc.nat(3), name: word, value: fc.double() });
  const matrix = fc.record({ rows: fc.integer({ min: 1, max: 99 }), cols: fc.integer({ min: 1, max: 99 }), params: fc.nat(999), rate: fc.constant(2), werr: fc.constant(0.1), ranks: fc.array(fc.nat(9), { minLength: 1, maxLength: 3 }), seconds: fc.constant(1) });
  const compression = fc.record({ baselineTrialId: fc.constantFrom(...trialIds), baselineParams: fc.nat(9999), baselineValidPpl: fc.constant(90), matrices: fc.dictionary(word, matrix, { minKeys: 1, maxKeys: 2 }), validPplBefore: fc.constant(95), testPplBefore: fc.constant(96), finetuneSteps: fc.nat(99) });
  return fc.oneof(
    fc.record({ type: fc.constant('hello'), msgId: base.msgId, protocol: fc.constant(PROTOCOL_VERSION), workerId: word, workerKey: word, name: word, host: word, backend: word, device: word, version: word, token: word }),
    fc.record({ type: fc.constant('claim'), msgId: base.msgId }),
    fc.record({ type: fc.constant('heartbeat'), ...base, progress: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ type: fc.constant('metric'), ...base, points: fc.array(point, { minLength: 1, maxLength: 4 }) }),
    fc.record({ type: fc.constant('complete'), ...base, result: fc.record({ paramsByLayer: fc.dictionary(word, fc.nat(999), { minKeys: 1, maxKeys: 3 }), compression }).map((r) => ({ ...result(50), ...r })) }),
    fc.record({ type: fc.constant('fail'), ...base, kind: fc.constantFrom('error', 'diverged', 'oom'), error: word, retryable: fc.boolean() }),
    fc.record({ type: fc.constant('release'), ...base, reason: word }),
  );
};

type Leaf = { path: (string | number)[]; key: boolean };
/** The string values and record keys (`key`), and the integer values, of a message. */
function leaves(v: unknown, path: (string | number)[] = []): { strings: Leaf[]; ints: Leaf[] } {
  if (typeof v === 'string') return { strings: [{ path, key: false }], ints: [] };
  if (typeof v === 'number') return { strings: [], ints: Number.isInteger(v) && path.at(-1) !== 'value' && path.at(-1) !== 'progress' ? [{ path, key: false }] : [] };
  const out = { strings: [] as Leaf[], ints: [] as Leaf[] };
  if (typeof v !== 'object' || v === null) return out;
  const isRecord = ['paramsByLayer', 'matrices'].includes(String(path.at(-1)));
  for (const [k, x] of Object.entries(v)) {
    const p = [...path, Array.isArray(v) ? Number(k) : k];
    if (isRecord) out.strings.push({ path: p, key: true });
    const sub = leaves(x, p);
    out.strings.push(...sub.strings);
    out.ints.push(...sub.ints);
  }
  return out;
}
/** A copy of `msg` with the leaf at `path` (or the key, for a record key) replaced by `f` of it. */
function replaceAt(msg: Record<string, unknown>, { path, key }: Leaf, f: (x: never) => unknown): Record<string, unknown> {
  const copy = structuredClone(msg);
  let parent = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (key) {
    const value = parent[last];
    delete parent[last];
    parent[f(String(last) as never) as string] = value;
  } else parent[last] = f(parent[last] as never);
  return copy;
}
/** A valid message with one value the database cannot hold: a NUL or an unpaired surrogate somewhere in one string, or an integer past 2³¹. */
const poisoned = (): fc.Arbitrary<Record<string, unknown>> =>
  fc
    .record({
      msg: template(),
      which: fc.nat(),
      at: fc.nat(),
      bad: fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff'),
      big: fc.oneof(fc.constant(2 ** 31), fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(2 ** 53, 1e300)),
      int: fc.boolean(),
    })
    .map(({ msg, which, at, bad, big, int }) => {
      const { strings, ints } = leaves(msg);
      if (int && ints.length) return replaceAt(msg, ints[which % ints.length]!, () => big);
      return replaceAt(msg, strings[which % strings.length]!, (s: string) => s.slice(0, at % (s.length + 1)) + bad + s.slice(at % (s.length + 1)));
    });

/** Built once the trials exist (reports name real trial ids). */
const frame = (): fc.Arbitrary<string | Buffer> => fc.oneof(
  { weight: 60, arbitrary: poisoned().map((m) => encodeMessage(m)) },
  { weight: 60, arbitrary: withMsgId(foreignReport()) },
  { weight: 40, arbitrary: withMsgId(wrongTypes) },
  { weight: 20, arbitrary: withMsgId(unknownType) },
  { weight: 20, arbitrary: withMsgId(hello) },
  { weight: 40, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 20, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 20, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 20, arbitrary: fc.oneof(fc.anything({ maxDepth: 2 }).map((v) => { try { return encodeMessage(v) ?? 'undefined'; } catch { return '{'; } }), fc.constantFrom('', '{', '[]', 'null', '"x"', '1e999', '{"type":"claim"', '\u0000')) },
  { weight: 1, arbitrary: huge },
);

/** A claim would legitimately change a trial: the fuzzer never sends one that parses. */
function isRealClaim(f: string | Buffer): boolean {
  if (typeof f !== 'string') return false;
  try {
    const m = WorkerMessage.safeParse(JSON.parse(f));
    return m.success && m.data.type === 'claim';
  } catch {
    return false;
  }
}

describe('fuzzing the worker gateway', () => {
  it('survives thousands of bad messages: still serves, every reply well-formed, no trial changed', async () => {
    const before = await snapshot();
    let greeted = await ProtocolClient.connect(c.url);
    await greeted.hello('fuzzer');
    let stranger = await ProtocolClient.connect(c.url);
    let sent = 0;
    let reconnects = 0;
    let sync = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(frame(), { minLength: 5, maxLength: 15 }), fc.boolean(), async (frames, toGreeted) => {
        if (toGreeted && greeted.closed) {
          greeted = await ProtocolClient.connect(c.url);
          await greeted.hello('fuzzer');
          reconnects++;
        }
        if (!toGreeted && stranger.closed) {
          stranger = await ProtocolClient.connect(c.url);
          reconnects++;
        }
        const client = toGreeted ? greeted : stranger;
        const seen = client.received.length;
        for (const f of frames) {
          if (isRealClaim(f)) continue;
          client.sendRaw(f);
          sent++;
        }
        // Messages are handled in order: the reply to this one means all before it were handled.
        // (A fuzzed hello may have re-greeted or closed the socket; both are fine.)
        const id = `sync-${++sync}`;
        const reply = client.next((m) => 'replyTo' in m && m.replyTo === id, 15_000);
        client.sendRaw(encodeMessage({ type: 'heartbeat', msgId: id, trialId: 'no-such-trial', attempt: 1, progress: 0 }));
        let onClose = () => {};
        await Promise.race([reply, new Promise<void>((r) => client.ws.once('close', (onClose = r)))]);
        client.ws.off('close', onClose);
        reply.catch(() => {}); // closed before the reply: it will never come
        for (const m of client.received.slice(seen)) {
          expect(CoordinatorMessage.safeParse(m).success, JSON.stringify(m).slice(0, 300)).toBe(true);
          expect(m.type).not.toBe('assign');
          // Refused, never failed: no message the schema lets through breaks a statement.
          expect(m.type === 'error' && m.code, JSON.stringify(m).slice(0, 300)).not.toBe('INTERNAL');
          if (m.type === 'ack') expect(m.duplicate ?? false).toBe(false);
        }
        return true;
      }),
      { numRuns: 220, seed: 42 },
    );
    expect(sent).toBeGreaterThan(2000);

    // Nothing changed…
    expect(await snapshot()).toEqual(before);
    // …and it still serves: health, the holder's lease, a real claim/complete round trip.
    expect(await apiClient(c.url).health.query()).toMatchObject({ ok: true });
    const res = await fetch(`${c.url}/healthz`);
    expect(res.status).toBe(200);
    const w = await ProtocolClient.connect(c.url);
    await w.hello('after-the-fuzz');
    const a = await w.request({ type: 'claim' });
    expect(a.type).toBe('assign');
    if (a.type !== 'assign') return;
    expect(await w.request({ type: 'complete', trialId: a.trial.id, attempt: a.trial.attempt, result: result(33) })).toMatchObject({ type: 'ack', duplicate: false });
    expect(await c.store.getTrial(a.trial.id)).toMatchObject({ status: 'succeeded', validPpl: 33 });
    const running = before.find((t) => t.status === 'running')!;
    expect(await holder.request({ type: 'complete', trialId: running.id, attempt: running.attempt, result: result(21) })).toMatchObject({ type: 'ack' });
    w.close();
    greeted.close();
    stranger.close();
    console.log(`fuzz: ${sent} messages, ${reconnects} reconnects`);
  });
});

describe('duplicate and out-of-order messages', () => {
  it('change nothing: the same msgId twice, a metric or fail after complete, a heartbeat for an old attempt', async () => {
    const sweep = await launch(c.store, 'name: order\ndataset: { name: ptb, vocabSize: 300 }\nseeds: 1\nmaxAttempts: 3');
    const w = await ProtocolClient.connect(c.url);
    await w.hello('orderly');
    const claimOwn = async () => {
      for (;;) {
        const a = await w.request({ type: 'claim' });
        if (a.type !== 'assign') throw new Error(`expected a trial, got ${a.type}`);
        if (a.trial.sweepId === sweep.id) return a.trial;
        await w.request({ type: 'complete', trialId: a.trial.id, attempt: a.trial.attempt, result: result(60) }); // the fuzz sweep's leftovers
      }
    };
    // Attempt 1 given back, attempt 2 claimed: attempt 1 is now an old attempt.
    const first = await claimOwn();
    await w.request({ type: 'release', trialId: first.id, attempt: first.attempt, reason: 'test' });
    const t = await claimOwn();
    expect(t).toMatchObject({ id: first.id, attempt: first.attempt + 1 });
    const leaseBefore = (await c.store.getTrial(t.id))!.leaseExpiresAt;
    expect(await w.request({ type: 'heartbeat', trialId: t.id, attempt: first.attempt, progress: 0.9 })).toMatchObject({ type: 'error', code: 'LEASE_LOST' });
    expect((await c.store.getTrial(t.id))!).toMatchObject({ status: 'running', attempt: t.attempt, leaseExpiresAt: leaseBefore });

    const metric = { type: 'metric', msgId: 'metric-1', trialId: t.id, attempt: t.attempt, points: [{ step: 5, epoch: 0, name: 'train_loss', value: 4 }] };
    expect(await w.request(metric)).toMatchObject({ type: 'ack' });
    expect(await w.request(metric)).toMatchObject({ type: 'ack' }); // same msgId again (an outbox resend)
    const complete = { type: 'complete', msgId: 'complete-1', trialId: t.id, attempt: t.attempt, result: result(50) };
    expect(await w.request(complete)).toMatchObject({ type: 'ack', duplicate: false });
    const done = await c.store.getTrial(t.id);
    expect(done!.curves).toEqual([{ attempt: t.attempt, name: 'train_loss', points: [expect.objectContaining({ step: 5, value: 4 })] }]);
    expect(await w.request(complete)).toMatchObject({ type: 'ack', duplicate: true });
    expect(await w.request({ ...complete, msgId: 'complete-2', result: result(1) })).toMatchObject({ type: 'ack', duplicate: true });
    // After the result: late metrics, a fail, a release, a heartbeat — all refused or ignored.
    expect(await w.request({ ...metric, msgId: 'metric-late', points: [{ step: 6, epoch: 0, name: 'train_loss', value: 3 }] })).toMatchObject({ type: 'error', code: 'LEASE_LOST' });
    expect(await w.request({ type: 'fail', trialId: t.id, attempt: t.attempt, kind: 'error', error: 'late', retryable: true })).toMatchObject({ type: 'error', code: 'LEASE_LOST' });
    await w.request({ type: 'release', trialId: t.id, attempt: t.attempt, reason: 'late' });
    expect(await w.request({ type: 'heartbeat', trialId: t.id, attempt: t.attempt, progress: 0.5 })).toMatchObject({ type: 'error', code: 'LEASE_LOST' });
    expect(await c.store.getTrial(t.id)).toEqual(done);
    expect((await c.store.getSweep(sweep.id))!.status).toBe('succeeded');
    w.close();
  });
});

describe('fuzzing dotted paths in specs (sweeps.validate, sweeps.create)', () => {
  /** Own, non-function properties of the built-in prototypes: what a pollution leaves behind. */
  const prototypeData = () =>
    [Object.prototype, Array.prototype, Function.prototype, String.prototype].flatMap((p) =>
      Object.getOwnPropertyNames(p).filter((k) => {
        const d = Object.getOwnPropertyDescriptor(p, k)!;
        return 'value' in d && typeof d.value !== 'function' && k !== 'length' && k !== 'constructor';
      }),
    );
  const FORBIDDEN = ['__proto__', 'prototype', 'constructor'];
  const segment = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('model', 'hidden', 'phm', 'lowrank', 'layers', 'n', 'rank', 'training', 'lr', 'dataset', 'name', 'compress', 'finetune', 'budget', 'method') },
    { weight: 3, arbitrary: fc.constantFrom(...FORBIDDEN) },
    { weight: 2, arbitrary: fc.constantFrom('toString', 'hasOwnProperty', 'valueOf', 'includes', 'length', '0', 'polluted', '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const dottedPath = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('.'));
  const gridValue = fc.oneof(fc.integer({ min: -5, max: 300 }), fc.constantFrom('p', 'gates', 'dense', 'phm'), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }));
  const spec = fc.record(
    {
      grid: fc.dictionary(dottedPath, fc.array(gridValue, { minLength: 1, maxLength: 3 }), { minKeys: 1, maxKeys: 3 }),
      baseline: fc.dictionary(dottedPath, gridValue, { maxKeys: 2 }),
    },
    { requiredKeys: ['grid'] },
  ).map((s) => ({ name: 'fuzz-paths', dataset: { name: 'ptb', vocabSize: 300 }, ...s }));

  it('refuses every path through a prototype naming it, answers the rest, and pollutes nothing', async () => {
    const before = prototypeData();
    const api = apiClient(c.url);
    let refusedForPrototype = 0;
    await fc.assert(
      fc.asyncProperty(spec, fc.boolean(), async (s, asObject) => {
        const bad = [...Object.keys(s.grid).map((k) => `grid.${k}`), ...Object.keys(s.baseline ?? {}).map((k) => `baseline.${k}`)].filter((p) => p.split('.').slice(1).some((seg) => FORBIDDEN.includes(seg)));
        let issues: { path: string; message: string }[];
        if (asObject) {
          // a launch with the spec as an object (its keys arrive as JSON object keys); refused or queued
          const r = await api.sweeps.create.mutate({ spec: s }).then(
            async (ok) => (await api.sweeps.cancel.mutate({ id: ok.id }), [] as { path: string; message: string }[]),
            (e: unknown) => (e as TRPCClientError<never>).data as unknown as { fieldIssues?: { path: string; message: string }[] },
          );
          issues = Array.isArray(r) ? r : (r.fieldIssues ?? []);
        } else {
          const v = await api.sweeps.validate.query({ spec: JSON.stringify(s) });
          expect(typeof v.ok).toBe('boolean');
          issues = v.issues;
        }
        if (bad.length && !issues.some((i) => i.path === 'grid' || i.path === '')) {
          refusedForPrototype++;
          for (const p of bad.filter((x) => x.startsWith('grid.'))) expect(issues, p).toContainEqual({ path: p, message: expect.stringMatching(/is not a parameter name/) });
        }
        expect(prototypeData()).toEqual(before);
        return true;
      }),
      { numRuns: 250, seed: 7 },
    );
    expect(refusedForPrototype).toBeGreaterThan(50);
    // Still whole: the thread that checked them all validates and launches, reads answer, a worker is greeted.
    expect(await api.sweeps.validate.query({ spec: 'name: ok\ndataset: { name: ptb, vocabSize: 300 }\ngrid: { model.hidden: [8, 16] }' })).toMatchObject({ ok: true, issues: [], trials: 2 });
    const s = await api.sweeps.create.mutate({ spec: 'name: ok\ndataset: { name: ptb, vocabSize: 300 }' });
    expect(await api.trials.list.query({ sweepId: s.id })).toMatchObject({ total: 1 });
    await api.sweeps.cancel.mutate({ id: s.id });
    const w = await ProtocolClient.connect(c.url);
    expect(await w.hello('after-path-fuzz')).toEqual(expect.any(String));
    w.close();
  });
});
