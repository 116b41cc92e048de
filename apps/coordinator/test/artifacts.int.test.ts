// Checkpoint upload and download over HTTP against a real coordinator: fenced by the lease like
// every other write, digest-checked, size-limited, and behind the worker token.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { MAX_ARTIFACT_BYTES } from '@lmsweep/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { launch, result } from './helpers.ts';

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

function put(trialId: string, body: Uint8Array, h: { worker?: string; key?: string; attempt?: number; sha256?: string; token?: string | null }) {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (h.token !== null) headers['authorization'] = `Bearer ${h.token ?? 'wt'}`;
  if (h.worker) headers['x-lmsweep-worker'] = h.worker;
  const key = h.key ?? (h.worker ? keys.get(h.worker) : undefined);
  if (key) headers['x-lmsweep-worker-key'] = key;
  if (h.attempt !== undefined) headers['x-lmsweep-attempt'] = String(h.attempt);
  headers['x-lmsweep-sha256'] = h.sha256 ?? sha(body);
  return fetch(`${c.url}/artifacts/${trialId}/checkpoint`, { method: 'PUT', body: body as Uint8Array<ArrayBuffer>, headers });
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
    expect(await c.store.getArtifact(base.id, 'checkpoint')).toBeNull();
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
});
