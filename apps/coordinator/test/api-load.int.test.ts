// Heavy requests on the open API do not stall the coordinator (issue 12.2): specs are checked on
// worker threads, so /healthz, heartbeats and reads are answered while they run; the excess is
// refused (BUSY, BATCH_TOO_LARGE) rather than queued without end, anonymous validations have a
// lane of their own and a per-address pace, so launches are never refused for them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { MAX_API_BATCH } from '@lmsweep/protocol';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { ProtocolClient } from './ws-client.ts';
import { batchBody, rawRequest } from './http.ts';
import { launch, result, sleep } from './helpers.ts';

/** A spec of n × n grid points: each check expands n² trials (2,500 at n = 50). */
const heavySpec = (n: number) =>
  `name: heavy\ndataset: { name: ptb, vocabSize: 300 }\ngrid:\n  model.hidden: [${Array.from({ length: n }, (_, i) => i + 8).join(', ')}]\n  training.lr: [${Array.from({ length: n }, (_, i) => (i + 1) / 100).join(', ')}]\n`;

/** One POST of `k` batched validations of the heavy spec. */
function heavyBatch(url: string, k: number, n = 50) {
  const path = Array.from({ length: k }, () => 'sweeps.validate').join(',');
  return rawRequest(`${url}/trpc/${path}?batch=1`, { method: 'POST', body: batchBody(Array.from({ length: k }, () => ({ spec: heavySpec(n) }))) });
}

describe('heavy validation runs off the event loop', () => {
  let c: Coordinator;
  beforeAll(async () => {
    c = await startCoordinator({ port: 0, databaseUrl: 'memory://', specPool: { threads: 1 } });
    // the thread is started (and warm) before the measurement
    expect(await apiClient(c.url).sweeps.validate.query({ spec: heavySpec(5) })).toMatchObject({ ok: true, trials: 25 });
  });
  afterAll(async () => {
    await c?.close();
  });

  it('/healthz answers while a batch of heavy validations is being checked (ordering, not timing)', async () => {
    let heavyDone = false;
    const heavy = heavyBatch(c.url, 8).then((r) => ((heavyDone = true), r));
    // Probes one after another until the heavy request is answered: on the event loop (before
    // the fix) at most one could slip in before the loop was blocked, and none until it is done.
    let before = 0;
    while (!heavyDone) {
      const h = await rawRequest(`${c.url}/healthz`);
      expect(h.status).toBe(200);
      if (!heavyDone) before++;
      if (before >= 5) break;
    }
    expect(before).toBeGreaterThanOrEqual(5);
    const r = await heavy;
    expect(r.status).toBe(200);
    expect((r.json as { result: { data: { trials: number } } }[]).map((x) => x.result.data.trials)).toEqual(Array(8).fill(2500));
  });

  it('answers each call of an oversubscribed batch with its result or BUSY, never anything else, and serves again once drained', async () => {
    const small = await startCoordinator({ port: 0, databaseUrl: 'memory://', specPool: { threads: 1, maxQueued: 2 } });
    try {
      const res = await heavyBatch(small.url, 6, 20);
      const answers = res.json as { result?: { data: { ok: boolean; trials: number } }; error?: { message: string; data: { lmsweepCode: string } } }[];
      // How many are refused depends on how fast the thread is (spec-pool.test.ts pins the rule itself).
      for (const a of answers) {
        if (a.error) expect(a.error).toMatchObject({ message: expect.stringMatching(/to check already; retry/), data: { lmsweepCode: 'BUSY' } });
        else expect(a.result?.data).toMatchObject({ ok: true, trials: 400 });
      }
      expect(answers.filter((a) => a.result).length).toBeGreaterThanOrEqual(3); // what one thread and a queue of two take at once
      expect(await apiClient(small.url).sweeps.validate.query({ spec: heavySpec(3) })).toMatchObject({ ok: true, trials: 9 });
    } finally {
      await small.close();
    }
  });
});

describe('anonymous validations cannot starve launches (S2)', () => {
  const API_TOKEN = 'api-token-0123456789abcdef';
  let c: Coordinator;
  beforeAll(async () => {
    // No pacing here: what is shown is the lanes alone.
    c = await startCoordinator({ port: 0, databaseUrl: 'memory://', apiToken: API_TOKEN, specPool: { threads: 1, maxQueued: 2 }, validateLimits: { burst: 1_000_000 } });
  });
  afterAll(async () => {
    await c?.close();
  });

  it('every launch is accepted while anonymous clients keep the validation queue full', async () => {
    let flooding = true;
    let anonymousBusy = 0;
    const flood = async () => {
      while (flooding) {
        const r = await heavyBatch(c.url, MAX_API_BATCH, 40);
        anonymousBusy += (r.json as { error?: unknown }[]).filter((a) => a.error).length;
      }
    };
    const flooders = Array.from({ length: 3 }, flood);
    const launcher = apiClient(c.url, API_TOKEN);
    try {
      for (let i = 0; i < 5; i++) {
        const s = await launcher.sweeps.create.mutate({ spec: `name: launch-${i}\ndataset: { name: ptb, vocabSize: 300 }\nseeds: 2\n` });
        expect(s.trials).toBe(2);
      }
    } finally {
      flooding = false;
      await Promise.all(flooders);
    }
    // The anonymous lane was full meanwhile: a batch's calls reach the pool together, 16 against a thread and a queue of 2.
    expect(anonymousBusy).toBeGreaterThan(0);
  });
});

describe('anonymous validations are paced per address', () => {
  it('past its bucket an address is answered BUSY with the wait; a token holder is not counted', async () => {
    const API_TOKEN = 'api-token-0123456789abcdef';
    const c = await startCoordinator({ port: 0, databaseUrl: 'memory://', apiToken: API_TOKEN, specPool: { threads: 1 }, validateLimits: { burst: 3, perMinute: 1 } });
    try {
      const anonymous = apiClient(c.url, '');
      for (let i = 0; i < 3; i++) expect(await anonymous.sweeps.validate.query({ spec: heavySpec(2) })).toMatchObject({ ok: true });
      const e = await anonymous.sweeps.validate.query({ spec: heavySpec(2) }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TRPCClientError);
      expect((e as TRPCClientError<never>).data).toMatchObject({ lmsweepCode: 'BUSY', httpStatus: 429 });
      expect((e as Error).message).toMatch(/^too many validations without the API token from 127\.0\.0\.1 \(at most 3 at once, then 1 a minute\); retry in \d+ s$/);
      // The token holder validates and launches as before.
      const trusted = apiClient(c.url, API_TOKEN);
      for (let i = 0; i < 5; i++) expect(await trusted.sweeps.validate.query({ spec: heavySpec(2) })).toMatchObject({ ok: true, datasetsChecked: true });
      expect((await trusted.sweeps.create.mutate({ spec: heavySpec(2) })).trials).toBe(4);
    } finally {
      await c.close();
    }
  });
});

describe("the issue's attack against a heartbeating worker", () => {
  const LEASE_MS = 3_000;
  let c: Coordinator;
  beforeAll(async () => {
    c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: LEASE_MS, reapIntervalMs: 200, backoffBaseMs: 0, specPool: { threads: 1 } });
  });
  afterAll(async () => {
    await c?.close();
  });

  it('no longer costs an honest worker its lease', async () => {
    await launch(c.store, 'name: honest\ndataset: { name: ptb, vocabSize: 300 }\nseeds: 1');
    const w = await ProtocolClient.connect(c.url);
    await w.hello('honest');
    const a = await w.request({ type: 'claim' });
    if (a.type !== 'assign') throw new Error('no trial');
    const { id, attempt } = a.trial;
    // heartbeats at a third of the lease, as the agent sends them
    const beat = setInterval(() => w.sendRaw(JSON.stringify({ type: 'heartbeat', msgId: w.nextId(), trialId: id, attempt, progress: 0.5 })), LEASE_MS / 3);
    try {
      // The request: 100 batched validations in one POST (10,000 trials each) …
      const attack = await heavyBatch(c.url, 100, 100);
      expect(attack).toMatchObject({ status: 400, json: { error: { data: { lmsweepCode: 'BATCH_TOO_LARGE' } } } });
      // … and what is allowed: full batches of heavy validations, several at once, for a few leases' time.
      const allowed = await Promise.all([heavyBatch(c.url, MAX_API_BATCH / 2, 50), heavyBatch(c.url, MAX_API_BATCH / 2, 50)]);
      for (const r of allowed) expect(r.status).toBe(200);
      await sleep(LEASE_MS / 3);
    } finally {
      clearInterval(beat);
    }
    expect(w.received.filter((m) => m.type === 'error')).toEqual([]);
    expect(await c.store.getTrial(id)).toMatchObject({ status: 'running', attempt: 1, leaseOwner: expect.any(String) });
    expect(await w.request({ type: 'complete', trialId: id, attempt, result: result(50) })).toMatchObject({ type: 'ack', duplicate: false });
    expect(await c.store.getTrial(id)).toMatchObject({ status: 'succeeded', attempt: 1 });
    w.close();
  });
});
