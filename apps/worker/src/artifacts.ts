// Checkpoint transfers with the coordinator (HTTP beside the websocket), retried with backoff
// while the coordinator is unreachable or failing (5xx, 429), so a coordinator restart costs a
// wait, not a trial; a bounded number of times, so a coordinator that keeps failing costs the
// attempt (with the reason) instead of a worker stuck retrying forever.
import { createHash } from 'node:crypto';
import { artifactPath } from '@lmsweep/protocol';

export interface TransferOptions {
  coordinatorUrl: string;
  token?: string | undefined;
  signal?: AbortSignal;
  /** Backoff between tries: first delay and cap (ms). */
  retryMs?: { first: number; max: number };
  /** Tries in all before giving up with TransferFailedError (default 8: about a minute with the default backoff). */
  tries?: number;
  /** Called before each retry. */
  onRetry?: (error: string, delayMs: number) => void;
}

/** The coordinator said the lease on the trial is no longer this worker's (HTTP 409). */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** A refusal that retrying will not change (401, 404, 413). */
export class TransferRefusedError extends Error {
  override name = 'TransferRefusedError';
  constructor(
    message: string,
    /** Whether another attempt of the trial (elsewhere, later) may get past it: not for a checkpoint over the size limit. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Every try failed (unreachable, 5xx, 429, corrupt download): the transfer was given up. */
export class TransferFailedError extends Error {
  override name = 'TransferFailedError';
}

export const DEFAULT_TRANSFER_TRIES = 8;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

async function withRetry<T>(what: string, opts: TransferOptions, once: () => Promise<T>): Promise<T> {
  const { first, max } = opts.retryMs ?? { first: 250, max: 10_000 };
  const tries = Math.max(1, opts.tries ?? DEFAULT_TRANSFER_TRIES);
  const t0 = Date.now();
  let delay = first;
  for (let n = 1; ; n++) {
    if (opts.signal?.aborted) throw new Error(`${what}: aborted`);
    try {
      return await once();
    } catch (e) {
      if (e instanceof LeaseLostError || e instanceof TransferRefusedError) throw e;
      if (opts.signal?.aborted) throw new Error(`${what}: aborted`);
      const msg = (e as Error).message;
      if (n >= tries) throw new TransferFailedError(`${what}: gave up after ${n} tries in ${Math.round((Date.now() - t0) / 1000)} s (last: ${msg})`);
      opts.onRetry?.(`${what}: ${msg}`, delay);
      await sleep(delay * (0.75 + Math.random() * 0.5), opts.signal);
      delay = Math.min(max, delay * 2);
    }
  }
}

function headers(opts: TransferOptions): Record<string, string> {
  return opts.token ? { authorization: `Bearer ${opts.token}` } : {};
}

async function errorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    return (JSON.parse(text) as { error?: string }).error ?? text;
  } catch {
    return text;
  }
}

/** Downloads a trial's artifact and checks its sha256. */
export function downloadArtifact(trialId: string, expect: { sha256: string; bytes: number }, opts: TransferOptions, name = 'checkpoint'): Promise<Uint8Array> {
  const url = new URL(artifactPath(trialId, name), opts.coordinatorUrl);
  return withRetry(`GET ${url.pathname}`, opts, async () => {
    const res = await fetch(url, { headers: headers(opts), ...(opts.signal ? { signal: opts.signal } : {}) });
    if (res.status >= 500 || res.status === 429) throw new Error(`HTTP ${res.status}: ${await errorText(res)}`);
    if (!res.ok) throw new TransferRefusedError(`GET ${url.pathname}: HTTP ${res.status}: ${await errorText(res)}`, true);
    const data = new Uint8Array(await res.arrayBuffer());
    const sha = createHash('sha256').update(data).digest('hex');
    if (data.length !== expect.bytes || sha !== expect.sha256) {
      throw new Error(`checkpoint of trial ${trialId}: got ${data.length} bytes with sha256 ${sha}, expected ${expect.bytes} bytes with ${expect.sha256}`);
    }
    return data;
  });
}

/** Uploads an artifact of the trial this worker holds (attempt), fenced by the coordinator. */
export function uploadArtifact(trial: { id: string; attempt: number }, worker: () => { id: string; key: string } | null, data: Uint8Array, opts: TransferOptions, name = 'checkpoint'): Promise<void> {
  const url = new URL(artifactPath(trial.id, name), opts.coordinatorUrl);
  const sha256 = createHash('sha256').update(data).digest('hex');
  const body = new Blob([data as Uint8Array<ArrayBuffer>]);
  return withRetry(`PUT ${url.pathname}`, opts, async () => {
    const w = worker();
    if (!w) throw new Error('not connected to the coordinator yet');
    const res = await fetch(url, {
      method: 'PUT',
      body,
      headers: { ...headers(opts), 'content-type': 'application/octet-stream', 'x-lmsweep-worker': w.id, 'x-lmsweep-worker-key': w.key, 'x-lmsweep-attempt': String(trial.attempt), 'x-lmsweep-sha256': sha256 },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (res.ok) return;
    const text = await errorText(res);
    if (res.status === 409) throw new LeaseLostError(text);
    if (res.status >= 500 || res.status === 429 || (res.status === 400 && /sha256/.test(text))) throw new Error(`HTTP ${res.status}: ${text}`);
    if (res.status === 403) throw new LeaseLostError(`the coordinator does not know this worker's key: ${text}`);
    throw new TransferRefusedError(`PUT ${url.pathname}: HTTP ${res.status}: ${text}`, res.status !== 413);
  });
}
