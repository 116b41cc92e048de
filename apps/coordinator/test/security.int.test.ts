// Who may connect and who may change things: worker tokens on the websocket, an API token for
// tRPC mutations, open reads, refusal to listen beyond loopback without tokens; spec and size
// limits at the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@lmsweep/protocol';
import { startCoordinator, CoordinatorConfigError, type Coordinator } from '../src/server.ts';
import { tokenMatches } from '../src/auth.ts';
import { isLoopback } from '../src/address.ts';
import { connectionLimits, coordinatorEnv } from '../src/env.ts';
import { CLOSE_UNAUTHORIZED } from '../src/gateway.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { startWorker, UnauthorizedError } from '../../worker/src/agent.ts';
import { ProtocolClient } from './ws-client.ts';
import { until, refusal } from './helpers.ts';

const WORKER_TOKEN = 'worker-token-0123456789abcdef';
const API_TOKEN = 'api-token-0123456789abcdef';
let c: Coordinator;

beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', workerToken: WORKER_TOKEN, apiToken: API_TOKEN });
});
afterAll(async () => {
  await c?.close();
});

const hello = (token?: string) => ({ type: 'hello', protocol: PROTOCOL_VERSION, name: 'w', host: 'localhost', backend: 'none', device: 'test', version: 'test', ...(token === undefined ? {} : { token }) });


const SPEC = { name: 'sec', dataset: { name: 'ptb', vocabSize: 300 }, seeds: 1 };

describe('worker token', () => {
  it.each([
    ['missing', undefined],
    ['wrong', 'not-the-token-0123456789'],
    ['a prefix of the right', WORKER_TOKEN.slice(0, -1)],
  ])('refuses a hello with a %s token: UNAUTHORIZED, then closed with a reason', async (_what, token) => {
    const w = await ProtocolClient.connect(c.url);
    expect(await w.request(hello(token))).toMatchObject({ type: 'error', code: 'UNAUTHORIZED' });
    await until('the socket to close', () => w.closed !== null, 5_000, 20);
    expect(w.closed).toEqual({ code: CLOSE_UNAUTHORIZED, reason: expect.stringMatching(/unauthorized/) });
  });

  it('never lets an unauthenticated socket claim', async () => {
    const w = await ProtocolClient.connect(c.url);
    expect(await w.request({ type: 'claim' })).toMatchObject({ type: 'error', code: 'NOT_HELLO' });
    w.close();
  });

  it('accepts the right token', async () => {
    const w = await ProtocolClient.connect(c.url);
    expect(await w.request(hello(WORKER_TOKEN))).toMatchObject({ type: 'welcome' });
    expect((await w.request({ type: 'claim' })).type).toMatch(/idle|assign/);
    w.close();
  });

  it('a worker id is not a credential: reconnecting under an id needs the key its welcome gave', async () => {
    const a = await ProtocolClient.connect(c.url);
    const welcome = await a.request(hello(WORKER_TOKEN));
    if (welcome.type !== 'welcome') throw new Error('no welcome');
    expect(welcome.workerKey).toMatch(/^[\w-]{32}$/);
    a.close();
    // Another holder of the shared token tries the id, without the key and with a guessed one.
    for (const workerKey of [undefined, 'not-the-key']) {
      const impostor = await ProtocolClient.connect(c.url);
      const r = await impostor.request({ ...hello(WORKER_TOKEN), workerId: welcome.workerId, ...(workerKey ? { workerKey } : {}) });
      expect(r).toMatchObject({ type: 'error', code: 'UNAUTHORIZED', message: expect.stringMatching(/registered with another key/) });
      await until('the socket to close', () => impostor.closed !== null, 5_000, 20);
    }
    // The worker itself, with its key, comes back under its id and keeps the key.
    const back = await ProtocolClient.connect(c.url);
    expect(await back.request({ ...hello(WORKER_TOKEN), workerId: welcome.workerId, workerKey: welcome.workerKey })).toMatchObject({
      type: 'welcome',
      workerId: welcome.workerId,
      workerKey: welcome.workerKey,
    });
    back.close();
  });

  it('the real agent stops with UnauthorizedError instead of retrying forever', async () => {
    const w = await startWorker({ coordinatorUrl: c.url, backend: 'cpu', quiet: true, token: 'wrong-token-0123456789', reconnectMs: { first: 50, max: 100 } });
    await expect(w.done).rejects.toBeInstanceOf(UnauthorizedError);
    const ok = await startWorker({ coordinatorUrl: c.url, backend: 'cpu', quiet: true, token: WORKER_TOKEN, exitWhenIdle: true });
    await expect(ok.done).resolves.toBeUndefined();
  });
});

describe('API token', () => {
  it('refuses mutations without or with a wrong token, and allows reads', async () => {
    for (const api of [apiClient(c.url, ''), apiClient(c.url, 'wrong-0123456789abcdef')]) {
      expect(await refusal(api.sweeps.create.mutate({ spec: SPEC }))).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401, lmsweepCode: 'UNAUTHORIZED' });
      expect(await refusal(api.sweeps.cancel.mutate({ id: 'whatever' }))).toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await api.health.query()).toMatchObject({ ok: true });
      expect(await api.sweeps.list.query()).toMatchObject({ total: 0 });
    }
  });

  it('accepts them with the token', async () => {
    const api = apiClient(c.url, API_TOKEN);
    const s = await api.sweeps.create.mutate({ spec: SPEC });
    expect(s.trials).toBe(1);
    expect(await api.sweeps.cancel.mutate({ id: s.id })).toEqual({ cancelled: 1, running: 0 });
  });
});

describe('binding', () => {
  it('refuses to listen beyond loopback without tokens, with a clear message', async () => {
    await expect(startCoordinator({ host: '0.0.0.0', port: 0, databaseUrl: 'memory://' })).rejects.toThrow(CoordinatorConfigError);
    await expect(startCoordinator({ host: '0.0.0.0', port: 0, databaseUrl: 'memory://', workerToken: WORKER_TOKEN })).rejects.toThrow(/API token \(LMSWEEP_API_TOKEN\).*bind to 127\.0\.0\.1/);
  });

  it('knows loopback addresses, compares tokens exactly, parses its env once', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', 'example.com'].some(isLoopback)).toBe(false);
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc') || tokenMatches('ab', 'abc') || tokenMatches(undefined, 'abc')).toBe(false);
    expect(coordinatorEnv({ LMSWEEP_WORKER_TOKEN: WORKER_TOKEN, LMSWEEP_PORT: '5000', LMSWEEP_API_TOKEN: '' })).toMatchObject({ LMSWEEP_WORKER_TOKEN: WORKER_TOKEN, LMSWEEP_PORT: 5000, LMSWEEP_API_TOKEN: undefined });
    expect(() => coordinatorEnv({ LMSWEEP_WORKER_TOKEN: 'short' })).toThrow(/LMSWEEP_WORKER_TOKEN: must be at least 16/);
    expect(connectionLimits(coordinatorEnv({ LMSWEEP_MAX_UNAUTHENTICATED: '5', LMSWEEP_LIMIT_LOOPBACK: '1' }))).toEqual({ maxUnauthenticated: 5, exemptLoopback: false });
  });
});

describe('input limits at launch', () => {
  const api = () => apiClient(c.url, API_TOKEN);
  it('refuses an absurd number of trials', async () => {
    const big = { ...SPEC, grid: { 'model.hidden': Array.from({ length: 200 }, (_, i) => i + 1), 'training.lr': Array.from({ length: 60 }, (_, i) => (i + 1) / 10) } };
    const r = await refusal(api().sweeps.create.mutate({ spec: big }));
    expect(r).toMatchObject({ lmsweepCode: 'INVALID_SPEC', fieldIssues: [{ path: 'grid', message: expect.stringMatching(/12000 trials; at most 10000/) }] });
  });
  it.each([
    ['an unknown method', { ...SPEC, method: 'magic' }, 'method', /dense/],
    ['an unknown dataset', { ...SPEC, dataset: { name: 'no-such-corpus' } }, 'dataset.name', /"no-such-corpus" not found/],
    ['an unknown parameter', { ...SPEC, grid: { 'model.wat': [1, 2] } }, 'grid.model.wat', /unknown parameter/],
  ])('refuses %s naming the field', async (_what, spec, path, message) => {
    const r = await refusal(api().sweeps.create.mutate({ spec }));
    expect(r).toMatchObject({ lmsweepCode: 'INVALID_SPEC', fieldIssues: [{ path, message: expect.stringMatching(message) }] });
  });
  it('answers a request body over 1 MB with 413 and keeps serving', async () => {
    const body = JSON.stringify({ spec: 'x'.repeat(1_100_000) });
    const res = await fetch(`${c.url}/trpc/sweeps.create`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` }, body });
    expect(res.status).toBe(413);
    // Chunked (no content-length): tRPC's own limit while reading.
    const chunked = await fetch(`${c.url}/trpc/sweeps.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
      body: new ReadableStream({ start(ctl) { for (let i = 0; i < 12; i++) ctl.enqueue(new TextEncoder().encode('x'.repeat(100_000))); ctl.close(); } }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await apiClient(c.url).health.query()).toMatchObject({ ok: true });
  });
});
