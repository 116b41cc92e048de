// Checkpoint upload and download over HTTP against a real coordinator: fenced by the lease like
// every other write, refused before the body is read, streamed in chunks, digest-checked,
// size-limited, and behind the worker token.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { MAX_ARTIFACT_BYTES } from '@lmsweep/protocol';
import { getArtifact } from '@lmsweep/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { artifactRoutes } from '../src/artifacts.ts';
import { LeaseLostError, TransferRefusedError, uploadArtifact } from '../../worker/src/artifacts.ts';
import { launch, result, sleep } from './helpers.ts';

let c: Coordinator;
beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 60_000, workerToken: 'wt' });
});
afterAll(async () => c?.close());

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Worker keys, as their welcome would give them. */
const keys = new Map<string, string>();
async function register(name: string): Promise<string> {
  const r = (await c.store.registerWorker({ name, host: 'h', backend: 'wasm', device: 'cpu', version: '1' }))!;
  keys.set(r.id, r.key);
  return r.id;
}

function put(trialId: string, body: Uint8Array, h: { worker?: string; key?: string; attempt?: number; sha256?: string; token?: string | null }, base = c.url) {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (h.token !== null) headers['authorization'] = `Bearer ${h.token ?? 'wt'}`;
  if (h.worker) headers['x-lmsweep-worker'] = h.worker;
  const key = h.key ?? (h.worker ? keys.get(h.worker) : undefined);
  if (key) headers['x-lmsweep-worker-key'] = key;
  if (h.attempt !== undefined) headers['x-lmsweep-attempt'] = String(h.attempt);
  headers['x-lmsweep-sha256'] = h.sha256 ?? sha(body);
  return fetch(`${base}/artifacts/${trialId}/checkpoint`, { method: 'PUT', body: body as Uint8Array<ArrayBuffer>, headers });
}

const uploadHeaders = (worker: string, attempt: number, sha256 = '0'.repeat(64)) => ({ authorization: 'Bearer wt', 'x-lmsweep-worker': worker, 'x-lmsweep-worker-key': keys.get(worker)!, 'x-lmsweep-attempt': String(attempt), 'x-lmsweep-sha256': sha256 });

/**
 * Starts a PUT that declares `declared` bytes (or none: chunked) and sends only `first` of them;
 * resolves with the answer if it comes before the rest is sent (`more` sends the rest on demand).
 */
function startUpload(url: string, headers: Record<string, string>, first: Uint8Array, declared?: number) {
  const req = http.request(url, { method: 'PUT', headers: { ...headers, ...(declared !== undefined ? { 'content-length': String(declared) } : {}) } });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
  });
  req.write(first);
  return { answer, req };
}

describe('artifacts over HTTP', () => {
  it('stores the lease holder\'s checkpoint only, checks its digest, and serves it back', async () => {
    const sweep = await launch(c.store, 'name: a\ngrid: { method: [svd] }');
    const [wa, other] = [await register('wa'), await register('other')];
    const base = (await c.store.claim(wa, 60_000))!;
    expect(base.saveCheckpoint).toBe(true);
    const body = new Uint8Array(100_000).map((_, i) => i % 251);

    expect((await put(base.id, body, { worker: wa, attempt: 1, token: null })).status).toBe(401);
    expect((await put(base.id, body, { worker: wa, attempt: 1, token: 'nope' })).status).toBe(401);
    const noHeaders = await put(base.id, body, {});
    expect(noHeaders.status).toBe(400);
    expect(((await noHeaders.json()) as { error: string }).error).toMatch(/x-lmsweep-worker: missing; x-lmsweep-attempt: not a positive integer/);
    expect((await put(base.id, body, { worker: other, attempt: 1 })).status).toBe(409); // its own key, not its lease
    expect((await put(base.id, body, { worker: wa, key: keys.get(other)!, attempt: 1 })).status).toBe(403); // the lease holder's id, another's key
    expect((await put(base.id, body, { worker: wa, key: 'guess', attempt: 1 })).status).toBe(403);
    expect((await put(base.id, body, { worker: wa, attempt: 2 })).status).toBe(409);
    const corrupt = await put(base.id, body, { worker: wa, attempt: 1, sha256: sha(body.subarray(1)) });
    expect(corrupt.status).toBe(400);
    expect(((await corrupt.json()) as { error: string }).error).toMatch(/corrupt or truncated/);
    expect(await getArtifact(c.store, base.id, 'checkpoint')).toBeNull();
    // Completing before the checkpoint is stored is refused: its dependents need it.
    expect(await c.store.complete(base.id, wa, 1, result(50))).toBe('missing');

    const ok = await put(base.id, body, { worker: wa, attempt: 1 });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ sha256: sha(body), bytes: body.length });
    expect(await c.store.complete(base.id, wa, 1, result(50))).toBe('ok');

    const child = (await c.store.claim('wb', 60_000))!;
    expect(child.parent).toEqual({ trialId: base.id, sha256: sha(body), bytes: body.length });
    const got = await fetch(`${c.url}/artifacts/${base.id}/checkpoint`, { headers: { authorization: 'Bearer wt' } });
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(body))).toBe(true);
    expect((await fetch(`${c.url}/artifacts/${child.id}/checkpoint`, { headers: { authorization: 'Bearer wt' } })).status).toBe(404);
    expect((await fetch(`${c.url}/artifacts/${child.id}`, { headers: { authorization: 'Bearer wt' } })).status).toBe(404);
    expect(sweep.id).toBeTruthy();
  });

  it('refuses a checkpoint declared over the size limit before reading it', async () => {
    await launch(c.store, 'name: big\ngrid: { method: [svd] }');
    const wbig = await register('wbig');
    const base = (await c.store.claim(wbig, 60_000))!;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${c.url}/artifacts/${base.id}/checkpoint`, {
        method: 'PUT',
        headers: { authorization: 'Bearer wt', 'x-lmsweep-worker': wbig, 'x-lmsweep-worker-key': keys.get(wbig)!, 'x-lmsweep-attempt': '1', 'x-lmsweep-sha256': '0'.repeat(64), 'content-length': String(MAX_ARTIFACT_BYTES + 1) },
      });
      req.on('response', (res) => resolve(res.statusCode!));
      req.on('error', reject);
      req.write(Buffer.alloc(1024)); // the rest never comes: the answer must not wait for it
    });
    expect(status).toBe(413);
  });

  it('refuses an upload for a trial the sender does not hold before reading its body: 409 while the client is still sending', async () => {
    await launch(c.store, 'name: held\ngrid: { method: [svd] }');
    const [holder, thief] = [await register('holder'), await register('thief')];
    const base = (await c.store.claim(holder, 60_000))!;
    const url = `${c.url}/artifacts/${base.id}/checkpoint`;
    // 64 MiB declared, 64 KiB sent: the answer must not wait for the rest.
    const declared = 64 << 20;
    const notHeld = startUpload(url, uploadHeaders(thief, 1), new Uint8Array(64 << 10), declared);
    expect(await notHeld.answer).toMatchObject({ status: 409, body: expect.stringMatching(/is not .*thief|not w_/) });
    const wrongAttempt = startUpload(url, uploadHeaders(holder, 2), new Uint8Array(64 << 10), declared);
    expect((await wrongAttempt.answer).status).toBe(409);
    const noToken = startUpload(url, { ...uploadHeaders(holder, 1), authorization: 'Bearer nope' }, new Uint8Array(64 << 10), declared);
    expect((await noToken.answer).status).toBe(401);
    for (const r of [notHeld, wrongAttempt, noToken]) r.req.destroy();
    expect(await getArtifact(c.store, base.id, 'checkpoint')).toBeNull();
  });

  it('the worker\'s own upload of a big checkpoint it may not store ends at once with the refusal, not retried as a reset (C4)', async () => {
    await launch(c.store, 'name: c4\ngrid: { method: [svd] }');
    const [holder, other] = [await register('c4-holder'), await register('c4-other')];
    const t = (await c.store.claim(holder, 60_000))!;
    const data = new Uint8Array(128 << 20); // answered before the body is read: the client is still sending
    const retries: string[] = [];
    const opts = { coordinatorUrl: c.url, token: 'wt', retryMs: { first: 10, max: 20 }, onRetry: (e: string) => retries.push(e) };
    const as = (id: string, key = keys.get(id)!) => () => ({ id, key });
    await expect(uploadArtifact({ id: t.id, attempt: t.attempt }, as(other), data, opts)).rejects.toBeInstanceOf(LeaseLostError); // 409
    await expect(uploadArtifact({ id: t.id, attempt: t.attempt }, as(holder, 'not-the-key'), data, opts)).rejects.toBeInstanceOf(LeaseLostError); // 403
    await expect(uploadArtifact({ id: t.id, attempt: t.attempt }, as(holder), data, { ...opts, token: 'nope' })).rejects.toBeInstanceOf(TransferRefusedError); // 401
    expect(retries).toEqual([]);
  });

  it('the reaper deletes the chunks of an upload a crashed coordinator left behind, once older than any upload lasts (E1)', async () => {
    const quick = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 60_000, reapIntervalMs: 100 });
    try {
      await launch(quick.store, 'name: orphan\ngrid: { method: [svd] }');
      const w = (await quick.store.registerWorker({ name: 'o', host: 'h', backend: 'wasm', device: 'cpu', version: '1' }))!.id;
      const t = (await quick.store.claim(w, 60_000))!;
      const crashed = quick.store.artifacts.newUpload(t.id, w, t.attempt);
      const live = quick.store.artifacts.newUpload(t.id, w, t.attempt);
      for (const u of [crashed, live]) expect(await quick.store.artifacts.putChunk(u, 0, new Uint8Array(10))).toBe(true);
      // The crashed coordinator's upload began an hour ago; the live one now.
      await quick.store.prisma.artifactChunk.updateMany({ where: { uploadId: crashed.uploadId }, data: { createdAt: new Date(Date.now() - 3_600_000) } });
      await until(async () => (await quick.store.prisma.artifactChunk.count({ where: { uploadId: crashed.uploadId } })) === 0);
      expect(await quick.store.prisma.artifactChunk.count({ where: { uploadId: live.uploadId } })).toBe(1);
    } finally {
      await quick.close();
    }
  });

  describe('streamed in chunks, with a running size check', () => {
    const LIMIT = 300_000;
    const CHUNK = 64 << 10;
    let server: http.Server;
    let base: string;
    beforeAll(async () => {
      // The coordinator's own routes and store, with a small limit and small chunks.
      const routes = artifactRoutes({ store: c.store, log: pino({ level: 'silent' }), workerToken: 'wt', maxBytes: LIMIT, chunkBytes: CHUNK });
      server = http.createServer((req, res) => void routes(req, res));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    const chunkRows = async (trialId: string) => (await c.store.prisma.artifactChunk.count({ where: { trialId } }));

    it('stores an upload of exactly the limit (5 chunks) and serves it back; one byte more is refused with 413, declared or not', async () => {
      await launch(c.store, 'name: limit\ngrid: { method: [svd] }');
      const w = await register('w-limit');
      const t = (await c.store.claim(w, 60_000))!;
      const body = new Uint8Array(LIMIT).map((_, i) => (i * 31) & 255);
      const ok = await put(t.id, body, { worker: w, attempt: t.attempt }, base);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ sha256: sha(body), bytes: LIMIT });
      expect(await c.store.artifacts.info(t.id, 'checkpoint')).toMatchObject({ size: LIMIT, chunks: Math.ceil(LIMIT / CHUNK) });
      const got = await fetch(`${base}/artifacts/${t.id}/checkpoint`, { headers: { authorization: 'Bearer wt' } });
      expect(got.headers.get('x-lmsweep-sha256')).toBe(sha(body));
      expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(body))).toBe(true);

      const over = new Uint8Array(LIMIT + 1);
      expect((await put(t.id, over, { worker: w, attempt: t.attempt }, base)).status).toBe(413); // content-length says so
      // Chunked (no content-length): refused as soon as the body passes the limit, before it ends.
      const chunked = startUpload(`${base}/artifacts/${t.id}/checkpoint`, uploadHeaders(w, t.attempt, sha(over)), over.subarray(0, LIMIT + 1));
      expect(await chunked.answer).toMatchObject({ status: 413, body: expect.stringMatching(`over ${LIMIT} bytes`) });
      chunked.req.destroy();
      // The first upload is still the artifact, and the refused ones left no chunks behind.
      await sleep(100);
      expect(await c.store.artifacts.info(t.id, 'checkpoint')).toMatchObject({ size: LIMIT, sha256: sha(body) });
      expect(await chunkRows(t.id)).toBe(Math.ceil(LIMIT / CHUNK));
    });

    it('answers 409 when the lease is lost while the body streams in, and keeps nothing of it', async () => {
      await launch(c.store, 'name: midway\ngrid: { method: [svd] }');
      const w = await register('w-midway');
      const t = (await c.store.claim(w, 60_000))!;
      const up = startUpload(`${base}/artifacts/${t.id}/checkpoint`, uploadHeaders(w, t.attempt), new Uint8Array(3 * CHUNK), LIMIT);
      await until(async () => (await chunkRows(t.id)) >= 2);
      expect(await c.store.release(t.id, w, t.attempt, 'lease lost midway')).toBe(true);
      up.req.write(new Uint8Array(LIMIT - 3 * CHUNK));
      up.req.end();
      expect(await up.answer).toMatchObject({ status: 409, body: expect.stringMatching(/lost during the upload/) });
      await until(async () => (await chunkRows(t.id)) === 0);
      expect(await getArtifact(c.store, t.id, 'checkpoint')).toBeNull();
    });

    it('a retry of the same worker and attempt replaces an upload whose connection died silently: the old one is cut and its chunks dropped', async () => {
      await launch(c.store, 'name: twice\ngrid: { method: [svd] }');
      const w = await register('w-twice');
      const t = (await c.store.claim(w, 60_000))!;
      const body = new Uint8Array(LIMIT).map((_, i) => i & 255);
      // The first try sends two chunks' worth and then nothing: its connection is gone, unknown to the server.
      const first = startUpload(`${base}/artifacts/${t.id}/checkpoint`, uploadHeaders(w, t.attempt, sha(body)), body.subarray(0, 2 * CHUNK), LIMIT);
      const firstEnded = new Promise<string>((resolve) => {
        first.req.on('error', (e) => resolve(e.message));
        first.req.on('close', () => resolve('closed'));
      });
      first.answer.catch(() => {});
      await until(async () => (await chunkRows(t.id)) >= 2);
      // The worker's retry is taken at once (it was answered 429 until the first timed out, 300 s later).
      const retry = await put(t.id, body, { worker: w, attempt: t.attempt }, base);
      expect(retry.status).toBe(200);
      expect(await firstEnded).toBeTruthy();
      expect(await c.store.artifacts.info(t.id, 'checkpoint')).toMatchObject({ size: LIMIT, sha256: sha(body) });
      await until(async () => (await chunkRows(t.id)) === Math.ceil(LIMIT / CHUNK)); // the first try's chunks are gone
      expect((await put(t.id, body, { worker: w, attempt: t.attempt }, base)).status).toBe(200); // and again
    });

    it('cuts an upload whose client sends nothing for bodyIdleMs and discards it', async () => {
      const routes = artifactRoutes({ store: c.store, log: pino({ level: 'silent' }), workerToken: 'wt', maxBytes: LIMIT, chunkBytes: CHUNK, bodyIdleMs: 300 });
      const quick = http.createServer((req, res) => void routes(req, res));
      await new Promise<void>((r) => quick.listen(0, '127.0.0.1', r));
      const quickBase = `http://127.0.0.1:${(quick.address() as AddressInfo).port}`;
      try {
        await launch(c.store, 'name: idle\ngrid: { method: [svd] }');
        const w = await register('w-idle');
        const t = (await c.store.claim(w, 60_000))!;
        const body = new Uint8Array(LIMIT).map((_, i) => (i * 7) & 255);
        const stalled = startUpload(`${quickBase}/artifacts/${t.id}/checkpoint`, uploadHeaders(w, t.attempt, sha(body)), body.subarray(0, CHUNK + 10), LIMIT);
        const cut = new Promise<void>((resolve) => stalled.req.on('close', () => resolve()));
        stalled.req.on('error', () => {});
        stalled.answer.catch(() => {});
        await cut; // the server closed it: no bytes for 300 ms
        await until(async () => (await chunkRows(t.id)) === 0);
        expect((await put(t.id, body, { worker: w, attempt: t.attempt }, quickBase)).status).toBe(200);
      } finally {
        quick.closeAllConnections();
        await new Promise((r) => quick.close(r));
      }
    });
  });
});

async function until(pred: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}
