// Checkpoints over HTTP: a worker uploads the checkpoint of the trial it holds (fenced by its
// lease, like every other write) and downloads the checkpoint a compression trial starts from.
// Everything that can refuse an upload is checked before its body is read; the body is then
// streamed into the store in chunks with a running size check, so the coordinator holds one
// chunk of it at a time, never the whole.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ARTIFACT_CHUNK_BYTES, type TrialStore } from '@lmsweep/db';
import { ARTIFACT_PATH, MAX_ARTIFACT_BYTES } from '@lmsweep/protocol';
import { bearerToken, tokenMatches } from './auth.ts';

export interface ArtifactRoutesOptions {
  store: TrialStore;
  log: Logger;
  /** When set, both routes need `Authorization: Bearer <workerToken>`. */
  workerToken?: string;
  /** Largest upload accepted (default MAX_ARTIFACT_BYTES). */
  maxBytes?: number;
  /** Bytes per stored chunk (default ARTIFACT_CHUNK_BYTES). */
  chunkBytes?: number;
  /**
   * An upload whose client sends nothing for this long is cut and discarded (default 30 s): a
   * connection that died silently does not hold the trial's upload until Node's request timeout.
   */
  bodyIdleMs?: number;
}

/**
 * The longest an upload may last: the coordinator's HTTP server cuts a request not received whole
 * by then (its requestTimeout). Chunks no artifact points at that are older than this (and a
 * margin) belong to no live upload, and the reaper deletes them.
 */
export const UPLOAD_TIMEOUT_MS = 300_000;
export const ORPHAN_CHUNK_AGE_MS = UPLOAD_TIMEOUT_MS + 60_000;

/** Default of ArtifactRoutesOptions.bodyIdleMs. */
export const DEFAULT_BODY_IDLE_MS = 30_000;

/**
 * Answers and, for an error, closes the connection after the answer: an upload refused before
 * its body was read is not read at all (Node stops reading a request answered with
 * `connection: close` and destroys the socket once the answer is out).
 */
function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json', ...(status >= 400 ? { connection: 'close' } : {}) });
  res.end(JSON.stringify(body));
}

/** Resolves when the response can take more (or is gone), leaving no listener behind. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

type Received = { ok: true; size: number; chunks: number; sha256: string } | { ok: false; why: 'too-large' | 'lost' | 'aborted' | 'idle' };

/**
 * Streams the request body into `store(seq, bytes)` in pieces of exactly `chunkBytes` (the last
 * one shorter), hashing as it goes and stopping at the first byte past `max` or when `store`
 * answers false. Stops reading without destroying the request, so an answer can still be sent.
 * A client that sends nothing for `idleMs` while it is waited for (not while a chunk is being
 * stored) has its request destroyed.
 */
async function receive(req: IncomingMessage, max: number, chunkBytes: number, idleMs: number, store: (seq: number, bytes: Uint8Array) => Promise<boolean>): Promise<Received> {
  const hash = createHash('sha256');
  let size = 0;
  let seq = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let idle = false;
  let timer: NodeJS.Timeout | null = null;
  const waitForClient = () => {
    timer = setTimeout(() => {
      idle = true;
      req.destroy(new Error(`no bytes for ${idleMs} ms`));
    }, idleMs);
  };
  const clientSent = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  const flush = async (bytes: Buffer) => store(seq++, bytes);
  try {
    waitForClient();
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      clientSent();
      size += chunk.length;
      if (size > max) return { ok: false, why: 'too-large' };
      hash.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= chunkBytes) {
        const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        if (!(await flush(all.subarray(0, chunkBytes)))) return { ok: false, why: 'lost' };
        const rest = all.subarray(chunkBytes);
        pending = rest.length ? [rest] : [];
        pendingBytes = rest.length;
      }
      waitForClient();
    }
  } catch {
    return { ok: false, why: idle ? 'idle' : 'aborted' }; // the client went away (or went silent) mid-body
  } finally {
    clientSent();
  }
  if (!req.complete) return { ok: false, why: idle ? 'idle' : 'aborted' };
  if (pendingBytes > 0 || seq === 0) {
    if (!(await flush(Buffer.concat(pending, pendingBytes)))) return { ok: false, why: 'lost' };
  }
  return { ok: true, size, chunks: seq, sha256: hash.digest('hex') };
}

/**
 * `PUT /artifacts/<trialId>/<name>` with headers x-lmsweep-worker, x-lmsweep-worker-key (the key
 * its welcome gave it), x-lmsweep-attempt and x-lmsweep-sha256 (the body's digest, checked):
 * 200 {sha256, bytes}; before any of the body is read, 401 for a missing or wrong worker token,
 * 400 for bad headers, 403 for a wrong worker key, 413 when content-length is over the limit,
 * 409 when the lease is not the sender's; then 413 as soon as the body passes the limit, 409 when
 * the lease is lost meanwhile, 400 on a digest mismatch. One upload of a trial's artifact at a time:
 * a new one from the lease holder replaces one still under way (a retry after a connection that
 * died silently: the old request is destroyed and its chunks discarded), and one whose client
 * sends nothing for bodyIdleMs is cut.
 * `GET /artifacts/<trialId>/<name>`: the bytes (streamed chunk by chunk) with x-lmsweep-sha256, or 404.
 * Returns false when the URL is not an artifact route.
 */
export function artifactRoutes(opts: ArtifactRoutesOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const max = opts.maxBytes ?? MAX_ARTIFACT_BYTES;
  const chunkBytes = opts.chunkBytes ?? ARTIFACT_CHUNK_BYTES;
  const idleMs = opts.bodyIdleMs ?? DEFAULT_BODY_IDLE_MS;
  const { store, log } = opts;
  /** Uploads under way here, by trial and name: one at a time each; `done` when its chunks are finished or discarded. */
  const uploading = new Map<string, { req: IncomingMessage; workerId: string; attempt: number; done: Promise<void> }>();
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith(`${ARTIFACT_PATH}/`)) return false;
    let parts: string[];
    try {
      parts = url.pathname.slice(ARTIFACT_PATH.length + 1).split('/').map(decodeURIComponent);
    } catch {
      parts = [];
    }
    if (parts.length !== 2 || !parts[0] || !parts[1] || parts.some((p) => p.length > 100)) {
      reply(res, 404, { error: `not found: artifacts are ${ARTIFACT_PATH}/<trialId>/<name>` });
      return true;
    }
    const [trialId, name] = parts as [string, string];
    if (opts.workerToken !== undefined && !tokenMatches(bearerToken(req.headers.authorization), opts.workerToken)) {
      log.warn({ remote: req.socket.remoteAddress, path: url.pathname }, 'artifact request refused: bad or missing worker token');
      reply(res, 401, { error: 'worker token missing or wrong' });
      return true;
    }
    if (req.method === 'GET') {
      const a = await store.artifacts.info(trialId, name);
      if (!a) {
        reply(res, 404, { error: `trial ${trialId} has no artifact "${name}"` });
        return true;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': a.size, 'x-lmsweep-sha256': a.sha256, 'x-lmsweep-attempt': a.attempt });
      try {
        for await (const piece of store.artifacts.read(a)) {
          if (res.destroyed) return true;
          if (!res.write(piece)) await drained(res);
        }
        res.end();
      } catch (e) {
        log.warn({ trialId, name, err: (e as Error).message }, 'artifact download cut short');
        res.destroy(); // the client sees a short body (and a digest mismatch): it retries
      }
      return true;
    }
    if (req.method !== 'PUT') {
      reply(res, 405, { error: `${req.method} not allowed: GET or PUT` });
      return true;
    }
    const workerId = req.headers['x-lmsweep-worker'];
    const attempt = Number(req.headers['x-lmsweep-attempt']);
    const digest = req.headers['x-lmsweep-sha256'];
    const bad = [
      typeof workerId !== 'string' || !workerId ? 'x-lmsweep-worker: missing' : '',
      !Number.isInteger(attempt) || attempt < 1 || attempt > 1_000_000 ? 'x-lmsweep-attempt: not a positive integer' : '',
      typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest) ? 'x-lmsweep-sha256: not a hex sha256' : '',
    ].filter(Boolean);
    if (bad.length) {
      reply(res, 400, { error: bad.join('; ') });
      return true;
    }
    const worker = workerId as string;
    const key = req.headers['x-lmsweep-worker-key'];
    if (typeof key !== 'string' || !(await store.workerKeyMatches(worker, key))) {
      log.warn({ remote: req.socket.remoteAddress, workerId: worker, trialId }, 'artifact upload refused: wrong or missing worker key');
      reply(res, 403, { error: `x-lmsweep-worker-key: not the key of worker ${worker}` });
      return true;
    }
    if (Number(req.headers['content-length'] ?? 0) > max) {
      reply(res, 413, { error: `artifact over ${max} bytes` });
      return true;
    }
    if (!(await store.artifacts.holdsLease(trialId, worker, attempt))) {
      reply(res, 409, { error: `the lease on trial ${trialId} (attempt ${attempt}) is not ${worker}'s` });
      return true;
    }
    const slot = `${trialId}\u0000${name}`;
    // The lease holder's new upload replaces one under way: the holder only retries after its
    // earlier try failed, so that one's connection is dead (or its lease, when another attempt's).
    for (let old = uploading.get(slot); old; old = uploading.get(slot)) {
      log.warn({ trialId, name, workerId: worker, attempt, replaced: { workerId: old.workerId, attempt: old.attempt } }, 'artifact upload replaces one under way');
      old.req.destroy(new Error('replaced by a newer upload'));
      await old.done;
    }
    let settle = () => {};
    uploading.set(slot, { req, workerId: worker, attempt, done: new Promise<void>((r) => (settle = r)) });
    const upload = store.artifacts.newUpload(trialId, worker, attempt);
    let finished = false;
    try {
      const got = await receive(req, max, chunkBytes, idleMs, (seq, bytes) => store.artifacts.putChunk(upload, seq, bytes));
      if (!got.ok) {
        if (got.why === 'too-large') reply(res, 413, { error: `artifact over ${max} bytes` });
        else if (got.why === 'lost') reply(res, 409, { error: `the lease on trial ${trialId} (attempt ${attempt}) was lost during the upload` });
        else if (got.why === 'idle') log.warn({ trialId, name, workerId: worker, idleMs }, 'artifact upload cut: the client sent nothing for too long');
        else log.warn({ trialId, name, workerId: worker }, 'artifact upload cut short by the client (or replaced)');
        return true;
      }
      if (got.sha256 !== digest) {
        reply(res, 400, { error: `x-lmsweep-sha256: the body's sha256 is ${got.sha256} (corrupt or truncated upload)` });
        return true;
      }
      if ((await store.artifacts.finish(upload, name, { sha256: got.sha256, size: got.size, chunks: got.chunks })) === 'lost') {
        reply(res, 409, { error: `the lease on trial ${trialId} (attempt ${attempt}) was lost during the upload` });
        return true;
      }
      finished = true;
      log.info({ trialId, name, attempt, bytes: got.size, chunks: got.chunks }, 'artifact stored');
      reply(res, 200, { sha256: got.sha256, bytes: got.size });
      return true;
    } finally {
      if (!finished) await store.artifacts.discard(upload).catch((e) => log.warn({ err: e, trialId }, 'could not discard an unfinished upload'));
      if (uploading.get(slot)?.req === req) uploading.delete(slot);
      settle();
    }
  };
}
