// Checkpoint transfers give up: a coordinator that keeps failing uploads (5xx), or cannot be
// reached, costs a bounded number of tries with backoff, then the attempt fails with the reason;
// a refusal that will not change (413) is not retried at all. Against a peer that answers what
// the test needs, then the real agent, training for real, behind a proxy in front of a real
// coordinator that fails its checkpoint uploads.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '../../coordinator/src/server.ts';
import { launch, until } from '../../coordinator/test/helpers.ts';
import { TransferFailedError, TransferRefusedError, uploadArtifact } from '../src/artifacts.ts';
import { startWorker } from '../src/agent.ts';

const servers: http.Server[] = [];
afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function listen(s: http.Server): Promise<string> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/** A peer that answers each PUT with the next status of `statuses` (the last one repeated). */
async function answering(statuses: number[]): Promise<{ url: string; puts: () => number }> {
  let n = 0;
  const url = await listen(
    http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const status = statuses[Math.min(n++, statuses.length - 1)]!;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(status === 200 ? { sha256: 'x', bytes: 3 } : { error: `status ${status}` }));
      });
    }),
  );
  return { url, puts: () => n };
}

const trial = { id: 't1', attempt: 1 };
const worker = () => ({ id: 'w1', key: 'k' });
const fast = { retryMs: { first: 5, max: 20 } };

describe('checkpoint uploads', () => {
  it('give up after the given number of tries when the coordinator keeps answering 5xx, naming the last error', async () => {
    const peer = await answering([500]);
    const retries: string[] = [];
    const up = uploadArtifact(trial, worker, new Uint8Array(3), { coordinatorUrl: peer.url, ...fast, tries: 4, onRetry: (e) => retries.push(e) });
    await expect(up).rejects.toThrow(TransferFailedError);
    await expect(up).rejects.toThrow(/PUT \/artifacts\/t1\/checkpoint: gave up after 4 tries in \d+ s \(last: HTTP 500: status 500\)/);
    expect(peer.puts()).toBe(4);
    expect(retries).toHaveLength(3);
  });

  it('give up the same way when nothing listens', async () => {
    const closed = await listen(http.createServer());
    await new Promise((r) => servers.pop()!.close(r));
    await expect(uploadArtifact(trial, worker, new Uint8Array(3), { coordinatorUrl: closed, ...fast, tries: 3 })).rejects.toThrow(/gave up after 3 tries/);
  });

  it('retry 429 (another upload under way) and 503 until one is stored', async () => {
    const peer = await answering([429, 503, 200]);
    await expect(uploadArtifact(trial, worker, new Uint8Array(3), { coordinatorUrl: peer.url, ...fast, tries: 4 })).resolves.toBeUndefined();
    expect(peer.puts()).toBe(3);
  });

  it('do not retry a checkpoint over the size limit (413): refused, and not retryable elsewhere either', async () => {
    const peer = await answering([413]);
    const err = await uploadArtifact(trial, worker, new Uint8Array(3), { coordinatorUrl: peer.url, ...fast }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransferRefusedError);
    expect(err).toMatchObject({ retryable: false, message: expect.stringMatching(/HTTP 413/) });
    expect(peer.puts()).toBe(1);
  });
});

/** A proxy in front of a coordinator: websockets and reads pass through, checkpoint uploads get 503. */
async function failingUploads(target: Coordinator): Promise<{ url: string; refused: () => number }> {
  const port = target.port;
  let refused = 0;
  const proxy = http.createServer((req, res) => {
    if (req.method === 'PUT' && req.url?.startsWith('/artifacts/')) {
      refused++;
      req.resume();
      return void res.writeHead(503, { 'content-type': 'application/json', connection: 'close' }).end('{"error":"storage unavailable"}');
    }
    const up = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  proxy.on('upgrade', (req, socket, head) => {
    const up = net.connect(port, '127.0.0.1', () => {
      up.write(`${req.method} ${req.url} HTTP/1.1\r\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n')}\r\n\r\n`);
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    const cut = () => (up.destroy(), socket.destroy());
    up.on('error', cut);
    socket.on('error', cut);
  });
  return { url: await listen(proxy), refused: () => refused };
}

describe('the agent', () => {
  it('fails the attempt with the reason when its checkpoint upload keeps failing, and goes on working', async () => {
    // The worker reaches it through a proxy on another port, which passes the Host header on as it came.
    const c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 30_000, backoffBaseMs: 0, allowedHosts: ['127.0.0.1'] });
    try {
      const proxy = await failingUploads(c);
      const tiny = 'dataset: { name: ptb, vocabSize: 200 }\nmodel: { embedding: 8, hidden: 8, layers: 1 }\ntraining: { batchSize: 4, unroll: 5 }\nbudget: { maxSteps: 3, evalTokens: 200 }';
      // The dense baseline must store its checkpoint for the svd trial: it cannot, so it fails for good.
      const sweep = await launch(c.store, `name: upload-fails\n${tiny}\ncompress: { rate: 7.7 }\ngrid: { method: [svd] }\nmaxAttempts: 1`); // 200×8 at rank 1
      const w = await startWorker({ coordinatorUrl: proxy.url, backend: 'wasm', quiet: true, transfer: { tries: 3, retryMs: { first: 10, max: 50 } } });
      try {
        await until('the sweep to finish', async () => (await c.store.getSweep(sweep.id))?.status !== 'running', 90_000);
        const [base, child] = (await c.store.listTrials({ sweepId: sweep.id })).items;
        expect(base).toMatchObject({ method: 'dense', status: 'failed', attempt: 1 });
        expect(base!.error).toMatch(/^TransferFailedError: PUT \/artifacts\/.+\/checkpoint: gave up after 3 tries .*HTTP 503: storage unavailable/);
        expect(child).toMatchObject({ status: 'failed', error: expect.stringMatching(/baseline trial .* failed/) });
        expect(proxy.refused()).toBe(3);
        // The worker is still there and takes the next trial.
        const next = await launch(c.store, `name: after\n${tiny}`);
        await until('the next sweep to succeed', async () => (await c.store.getSweep(next.id))?.status === 'succeeded', 90_000);
      } finally {
        await w.stop();
      }
    } finally {
      await c.close();
    }
  }, 120_000);
});
