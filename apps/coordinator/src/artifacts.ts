// Checkpoints over HTTP: a worker uploads the checkpoint of the trial it holds (fenced by its
// lease, like every other write) and downloads the checkpoint a compression trial starts from.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { TrialStore } from '@lmsweep/db';
import { ARTIFACT_PATH, MAX_ARTIFACT_BYTES } from '@lmsweep/protocol';
import { bearerToken, tokenMatches } from './auth.ts';

export interface ArtifactRoutesOptions {
  store: TrialStore;
  log: Logger;
  /** When set, both routes need `Authorization: Bearer <workerToken>`. */
  workerToken?: string;
  maxBytes?: number;
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json', ...(status >= 400 ? { connection: 'close' } : {}) });
  res.end(JSON.stringify(body));
}

/** Reads the body up to `max` bytes; null when it is larger (the rest is not read). */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * `PUT /artifacts/<trialId>/<name>` with headers x-lmsweep-worker, x-lmsweep-worker-key (the key
 * its welcome gave it), x-lmsweep-attempt and x-lmsweep-sha256 (the body's digest, checked):
 * 200 {sha256}; 403 for a wrong worker key; 409 when the lease is not the sender's; 400 on a
 * digest mismatch or bad headers; 413 over the size limit.
 * `GET /artifacts/<trialId>/<name>`: the bytes with x-lmsweep-sha256, or 404.
 * Returns false when the URL is not an artifact route.
 */
export function artifactRoutes(opts: ArtifactRoutesOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const max = opts.maxBytes ?? MAX_ARTIFACT_BYTES;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith(`${ARTIFACT_PATH}/`)) return false;
    const parts = url.pathname.slice(ARTIFACT_PATH.length + 1).split('/').map(decodeURIComponent);
    if (parts.length !== 2 || !parts[0] || !parts[1] || parts.some((p) => p.length > 100)) {
      reply(res, 404, { error: `not found: artifacts are ${ARTIFACT_PATH}/<trialId>/<name>` });
      return true;
    }
    const [trialId, name] = parts as [string, string];
    if (opts.workerToken !== undefined && !tokenMatches(bearerToken(req.headers.authorization), opts.workerToken)) {
      opts.log.warn({ remote: req.socket.remoteAddress, path: url.pathname }, 'artifact request refused: bad or missing worker token');
      reply(res, 401, { error: 'worker token missing or wrong' });
      return true;
    }
    if (req.method === 'GET') {
      const a = await opts.store.getArtifact(trialId, name);
      if (!a) {
        reply(res, 404, { error: `trial ${trialId} has no artifact "${name}"` });
        return true;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': a.size, 'x-lmsweep-sha256': a.sha256, 'x-lmsweep-attempt': a.attempt });
      res.end(a.data);
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
      !Number.isInteger(attempt) || attempt < 1 ? 'x-lmsweep-attempt: not a positive integer' : '',
      typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest) ? 'x-lmsweep-sha256: not a hex sha256' : '',
    ].filter(Boolean);
    if (bad.length) {
      reply(res, 400, { error: bad.join('; ') });
      return true;
    }
    const key = req.headers['x-lmsweep-worker-key'];
    if (typeof key !== 'string' || !(await opts.store.workerKeyMatches(workerId as string, key))) {
      opts.log.warn({ remote: req.socket.remoteAddress, workerId, trialId }, 'artifact upload refused: wrong or missing worker key');
      reply(res, 403, { error: `x-lmsweep-worker-key: not the key of worker ${String(workerId)}` });
      return true;
    }
    if (Number(req.headers['content-length'] ?? 0) > max) {
      reply(res, 413, { error: `artifact over ${max} bytes` });
      return true;
    }
    const body = await readBody(req, max);
    if (!body) {
      reply(res, 413, { error: `artifact over ${max} bytes` });
      return true;
    }
    const sha256 = createHash('sha256').update(body).digest('hex');
    if (sha256 !== digest) {
      reply(res, 400, { error: `x-lmsweep-sha256: the body's sha256 is ${sha256} (corrupt or truncated upload)` });
      return true;
    }
    const r = await opts.store.putArtifact(trialId, workerId as string, attempt, name, body, sha256);
    if (r.status === 'lost') {
      reply(res, 409, { error: `the lease on trial ${trialId} (attempt ${attempt}) is not ${String(workerId)}'s` });
      return true;
    }
    opts.log.info({ trialId, name, attempt, bytes: body.length }, 'artifact stored');
    reply(res, 200, { sha256: r.sha256, bytes: body.length });
    return true;
  };
}
