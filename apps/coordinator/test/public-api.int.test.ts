// What an anonymous client can do to the open API of a coordinator started with both tokens
// (issue 12): prototype segments in spec paths, batched requests, what reads reveal.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusal } from './helpers.ts';
import http from 'node:http';
import { MAX_API_BATCH, MAX_API_BODY_BYTES, PROTOCOL_VERSION } from '@lmsweep/protocol';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { REPO_ROOT } from '../src/datasets.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { ProtocolClient } from './ws-client.ts';
import { batchBody, queryUrl, rawRequest } from './http.ts';

const WORKER_TOKEN = 'worker-token-0123456789abcdef';
const API_TOKEN = 'api-token-0123456789abcdef';
let c: Coordinator;

beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', workerToken: WORKER_TOKEN, apiToken: API_TOKEN, specPool: { threads: 1 } });
});
afterAll(async () => {
  await c?.close();
});

const anonymous = () => apiClient(c.url, '');
const trusted = () => apiClient(c.url, API_TOKEN);
const hello = (name: string) => ({ type: 'hello', protocol: PROTOCOL_VERSION, name, host: 'localhost', backend: 'none', device: 'test', version: 'test', token: WORKER_TOKEN });
const GOOD = 'name: good\ndataset: { name: ptb, vocabSize: 300 }\ngrid: { model.hidden: [8, 16] }\nseeds: 2\n';

/** Own, non-function properties of the built-in prototypes: what a pollution leaves behind. */
function prototypeData(): string[] {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype].flatMap((p) =>
    Object.getOwnPropertyNames(p).filter((k) => {
      const d = Object.getOwnPropertyDescriptor(p, k)!;
      return 'value' in d && typeof d.value !== 'function' && k !== 'length' && k !== 'constructor';
    }),
  );
}


/** The coordinator still does everything: reads, validates, launches, and greets and serves a worker. */
async function stillWhole() {
  expect(await anonymous().sweeps.list.query()).toMatchObject({ items: expect.any(Array) });
  expect(await anonymous().sweeps.validate.query({ spec: GOOD })).toMatchObject({ ok: true, trials: 4 });
  const s = await trusted().sweeps.create.mutate({ spec: GOOD });
  expect(s.trials).toBe(4);
  expect(await anonymous().trials.list.query({ sweepId: s.id })).toMatchObject({ total: 4 });
  const w = await ProtocolClient.connect(c.url);
  expect(await w.request(hello('after'))).toMatchObject({ type: 'welcome' });
  expect(await w.request({ type: 'claim' })).toMatchObject({ type: 'assign' });
  w.close();
  expect(await anonymous().workers.list.query()).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'after' })]));
  await trusted().sweeps.cancel.mutate({ id: s.id });
}

describe('prototype segments in spec paths (issue 12.1)', () => {
  it("the issue's unauthenticated GET is refused naming the field and breaks nothing", async () => {
    const before = prototypeData();
    // curl -G --data-urlencode 'input={"spec":"name: x\ngrid: {\"model.phm.layers.__proto__.includes\": [\"p\"]}\n"}' …/trpc/sweeps.validate
    const input = { spec: 'name: x\ngrid: {"model.phm.layers.__proto__.includes": ["p"]}\n' };
    const res = await rawRequest(queryUrl(c.url, 'sweeps.validate', input));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      result: { data: { ok: false, trials: 0, datasetsChecked: false, issues: [{ path: 'grid.model.phm.layers.__proto__.includes', message: expect.stringMatching(/"__proto__" is not a parameter name/) }] } },
    });
    expect(prototypeData()).toEqual(before);
    expect(({} as Record<string, unknown>)['includes']).toBeUndefined();
    await stillWhole();
  });

  it.each([
    ['grid', { 'model.__proto__.polluted': [1] }, undefined, 'grid.model.__proto__.polluted', '__proto__'],
    ['grid', { 'model.constructor.prototype.polluted': [1] }, undefined, 'grid.model.constructor.prototype.polluted', 'constructor'],
    ['grid', { 'training.prototype': [1] }, undefined, 'grid.training.prototype', 'prototype'],
    ['baseline', { 'model.hidden': [8] }, { '__proto__.polluted': 8 }, 'baseline.__proto__.polluted', '__proto__'],
  ])('a launch with a %s path through a prototype is refused naming it', async (_where, grid, baseline, path, segment) => {
    const spec = { name: 'p', dataset: { name: 'ptb', vocabSize: 300 }, grid, ...(baseline ? { baseline } : {}) };
    const r = await refusal(trusted().sweeps.create.mutate({ spec }));
    expect(r).toMatchObject({ lmsweepCode: 'INVALID_SPEC', fieldIssues: [{ path, message: expect.stringContaining(`"${segment}" is not a parameter name`) }] });
    // the same as YAML text, through the open validate
    expect(await anonymous().sweeps.validate.query({ spec: JSON.stringify(spec) })).toMatchObject({ ok: false, issues: [{ path }] });
    await stillWhole();
  });
});

describe('sampled specs (issue 13: search: and space:)', () => {
  it('examples/search.yaml validates and launches with its first configurations (not anonymously); a space key through a prototype is refused naming it', async () => {
    const text = readFileSync(path.join(REPO_ROOT, 'examples/search.yaml'), 'utf8');
    const v = await anonymous().sweeps.validate.query({ spec: text });
    expect(v).toMatchObject({ ok: true, issues: [] });
    expect(v.trials).toBeGreaterThanOrEqual(4 * 3); // 4 configurations × 3 seeds, and their baselines
    const before = (await anonymous().sweeps.list.query()).items.length;
    expect(await refusal(anonymous().sweeps.create.mutate({ spec: text }))).toMatchObject({ lmsweepCode: 'UNAUTHORIZED' });
    const created = await trusted().sweeps.create.mutate({ spec: text });
    expect(created.trials).toBe(v.trials);
    expect((await anonymous().sweeps.list.query()).items.length).toBe(before + 1);
    await trusted().sweeps.cancel.mutate({ id: created.id });
    const before2 = prototypeData();
    const polluting = '{"name":"p","search":{"trials":3},"space":{"__proto__":{"int":[1,2]},"method":["dense"],"model.hidden":{"int":[8,16],"when":{"__proto__":"x","method":"dense"}}}}';
    expect(await anonymous().sweeps.validate.query({ spec: polluting })).toMatchObject({ ok: false, issues: [{ path: 'space.__proto__' }, { path: 'space.model.hidden.when.__proto__' }] });
    expect(prototypeData()).toEqual(before2);
    await stillWhole();
  });
});

describe('what reads reveal (issue 12.6)', () => {
  it("workers.list never carries a worker's key hash", async () => {
    const w = await ProtocolClient.connect(c.url);
    const welcome = await w.request(hello('keyed'));
    if (welcome.type !== 'welcome') throw new Error('no welcome');
    const keyHash = createHash('sha256').update(welcome.workerKey).digest('hex');
    const res = await rawRequest(`${c.url}/trpc/workers.list`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(welcome.workerId);
    expect(res.text).not.toContain(keyHash);
    expect(res.text).not.toContain(welcome.workerKey);
    const listed = await anonymous().workers.list.query();
    const mine = listed.find((x) => x.id === welcome.workerId)!;
    expect(mine).toMatchObject({ name: 'keyed', connected: true });
    expect(mine).not.toHaveProperty('keyHash');
    w.close();
  });

  it("an anonymous validate does not look at the coordinator's disk; a token holder's does", async () => {
    const spec = (dataset: string) => `name: d\ndataset: ${JSON.stringify(dataset)}\n`;
    // a directory that exists (not a dataset), one that does not, the repository's own data dir
    const names = ['/etc', '/no/such/dir-0123', `${REPO_ROOT}/data`];
    const answers = await Promise.all(names.map((n) => rawRequest(queryUrl(c.url, 'sweeps.validate', { spec: spec(n) }))));
    for (const a of answers) {
      expect(a.json).toEqual({ result: { data: { ok: true, issues: [], trials: 1, datasetsChecked: false } } });
      expect(a.text).not.toContain(process.cwd());
    }
    // with the token: checked, and told where it looked
    const checked = await trusted().sweeps.validate.query({ spec: spec('/no/such/dir-0123') });
    expect(checked).toMatchObject({ ok: false, datasetsChecked: true, issues: [{ path: 'dataset.name', message: expect.stringContaining('looked in') }] });
    expect(await trusted().sweeps.validate.query({ spec: spec('ptb') })).toMatchObject({ ok: true, datasetsChecked: true });
  });
});

describe('unexpected errors', () => {
  it('answer without their internals (the message stays in the log)', async () => {
    const broken = await startCoordinator({ port: 0, databaseUrl: 'memory://' });
    try {
      await broken.db.close(); // every query now fails inside the database driver
      const res = await rawRequest(`${broken.url}/trpc/sweeps.list`);
      expect(res.status).toBe(500);
      expect(res.json).toEqual({ error: { message: "internal error (the coordinator's log has the details)", code: -32603, data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, path: 'sweeps.list', lmsweepCode: 'INTERNAL' } } });
      expect(res.text).not.toMatch(/PGlite|prisma|\/work|\.ts/i);
    } finally {
      await broken.close().catch(() => {});
    }
  });
});

describe('batched requests (issue 12.2)', () => {
  const validations = (n: number) => `${c.url}/trpc/${Array.from({ length: n }, () => 'sweeps.validate').join(',')}?batch=1`;

  it(`refuses a batch of more than ${MAX_API_BATCH} calls with a clear error, before reading it`, async () => {
    for (const n of [MAX_API_BATCH + 1, 100]) {
      const res = await rawRequest(validations(n), { method: 'POST', body: batchBody(Array.from({ length: n }, () => ({ spec: GOOD }))) });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ error: { message: `a batched request carries at most ${MAX_API_BATCH} calls; this one has ${n} (send the rest in further requests)`, data: { lmsweepCode: 'BATCH_TOO_LARGE', httpStatus: 400 } } });
    }
    // commas written as %2C count the same
    const encoded = `${c.url}/trpc/${Array.from({ length: MAX_API_BATCH + 1 }, () => 'health').join('%2C')}?batch=1`;
    expect((await rawRequest(encoded)).status).toBe(400);
    // GET batches too
    const get = await rawRequest(`${c.url}/trpc/${Array.from({ length: MAX_API_BATCH + 1 }, () => 'health').join(',')}?batch=1&input=%7B%7D`);
    expect(get).toMatchObject({ status: 400, json: { error: { data: { lmsweepCode: 'BATCH_TOO_LARGE' } } } });
  });

  it(`answers a batch of ${MAX_API_BATCH}, and the clients never send more`, async () => {
    const res = await rawRequest(validations(MAX_API_BATCH), { method: 'POST', body: batchBody(Array.from({ length: MAX_API_BATCH }, () => ({ spec: GOOD }))) });
    expect(res.status).toBe(200);
    expect(res.json).toHaveLength(MAX_API_BATCH);
    expect((res.json as { result: { data: { trials: number } } }[]).every((r) => r.result.data.trials === 4)).toBe(true);
    // 40 calls in one tick: the CLI's client splits them into batches the coordinator takes
    const api = anonymous();
    const all = await Promise.all(Array.from({ length: 40 }, () => api.health.query()));
    expect(all.every((h) => h.ok)).toBe(true);
  });
});

describe('the body limit (one check, declared or counted)', () => {
  const LIMIT_MESSAGE = `request body over ${MAX_API_BODY_BYTES} bytes (the coordinator's limit)`;
  /** POSTs `first`, then (on demand) the rest, declaring `declared` bytes or sending chunked; resolves with the answer. */
  function post(pathAndQuery: string, first: Buffer, declared?: number) {
    const req = http.request(`${c.url}${pathAndQuery}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(declared !== undefined ? { 'content-length': String(declared) } : {}) } });
    const answer = new Promise<{ status: number; json: unknown }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
      });
      req.on('error', reject);
    });
    req.write(first);
    return { req, answer };
  }
  const validation = (bytes: number) => {
    const head = JSON.stringify({ spec: GOOD });
    return Buffer.from(head + ' '.repeat(bytes - Buffer.byteLength(head)));
  };

  it('answers a body of exactly the limit', async () => {
    const body = validation(MAX_API_BODY_BYTES);
    const ok = post('/trpc/sweeps.validate', body, body.length);
    ok.req.end();
    expect(await ok.answer).toMatchObject({ status: 200, json: { result: { data: { ok: true, trials: 4 } } } });
  });

  it('refuses one declared over the limit before reading it, naming the limit', async () => {
    const big = post('/trpc/sweeps.validate', Buffer.alloc(64 << 10, 0x20), 64 << 20); // 64 MiB declared, 64 KiB sent
    expect(await big.answer).toEqual({ status: 413, json: { error: { message: LIMIT_MESSAGE, code: -32600, data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, lmsweepCode: 'PAYLOAD_TOO_LARGE' } } } });
    big.req.destroy();
  });

  it('refuses a chunked one (no content-length) as soon as it passes the limit, with the same answer', async () => {
    const body = validation(MAX_API_BODY_BYTES + 1);
    const chunked = post('/trpc/sweeps.validate', body);
    expect(await chunked.answer).toEqual({ status: 413, json: { error: { message: LIMIT_MESSAGE, code: -32600, data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, lmsweepCode: 'PAYLOAD_TOO_LARGE' } } } });
    chunked.req.destroy();
    expect(await anonymous().health.query()).toMatchObject({ ok: true });
  });
});

