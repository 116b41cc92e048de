// DNS rebinding and cross-site requests against a tokenless loopback coordinator (issue 12.3):
// a request must name the coordinator in Host, and a browser's must come from its own origin,
// on every route (tRPC, /healthz, artifacts, the worker websocket). Its own clients still connect.
import net from 'node:net';
import os from 'node:os';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { startWorker, workerUrl } from '../../worker/src/agent.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { ProtocolClient } from './ws-client.ts';
import { rawRequest } from './http.ts';
import { until } from './helpers.ts';

let c: Coordinator;
beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', allowedHosts: ['coord.example', 'localhost:9000'] });
});
afterAll(async () => {
  await c?.close();
});

const ROUTES = ['/healthz', '/trpc/sweeps.list', '/trpc/sweeps.validate?input=%7B%22spec%22%3A%22name%3A%20x%22%7D', '/artifacts/t1/checkpoint'];

/** The websocket upgrade's answer: 'open', or the HTTP status it was refused with. */
function upgrade(url: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(workerUrl(url), { headers });
    ws.once('open', () => (ws.terminate(), resolve('open')));
    ws.once('unexpected-response', (_req, res) => (ws.terminate(), resolve(res.statusCode ?? 0)));
    ws.once('error', (e) => reject(e));
  });
}

describe('a tokenless loopback coordinator', () => {
  it('refuses a rebound Host on every route, naming the option that allows it', async () => {
    for (const host of ['evil.example', `evil.example:${c.port}`, `127.0.0.1:${c.port + 1}`, `0.0.0.0:${c.port}`]) {
      for (const route of ROUTES) {
        const res = await rawRequest(`${c.url}${route}`, { headers: { host } });
        expect(res.status, `${host} ${route}`).toBe(403);
        expect(res.json).toMatchObject({ error: { message: expect.stringMatching(/is not this coordinator's.*--allowed-hosts/), data: { lmsweepCode: 'FORBIDDEN_HOST', httpStatus: 403 } } });
      }
      expect(await upgrade(c.url, { host })).toBe(403);
    }
  });

  it('refuses requests a web page makes from another origin', async () => {
    const host = `127.0.0.1:${c.port}`;
    for (const headers of <Record<string, string>[]>[{ host, origin: 'http://evil.example' }, { host, origin: 'null' }, { host, 'sec-fetch-site': 'cross-site' }, { host, origin: 'http://localhost:3000', 'sec-fetch-site': 'same-site' }]) {
      const res = await rawRequest(`${c.url}/trpc/sweeps.validate?input=%7B%22spec%22%3A%22name%3A%20x%22%7D`, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(await upgrade(c.url, headers)).toBe(403);
    }
    // a mutation as a page would send it (a form-like POST) is refused before tRPC sees it
    const post = await rawRequest(`${c.url}/trpc/sweeps.create`, { method: 'POST', headers: { host, origin: 'http://evil.example', 'content-type': 'text/plain' }, body: '{"spec":"name: x"}' });
    expect(post.status).toBe(403);
    expect((await c.store.listSweeps()).total).toBe(0);
  });

  it('answers its own names, its own origin and the allow-list', async () => {
    for (const host of [`127.0.0.1:${c.port}`, `localhost:${c.port}`, `[::1]:${c.port}`, 'coord.example', 'coord.example:8443', 'localhost:9000']) {
      expect((await rawRequest(`${c.url}/healthz`, { headers: { host } })).status, host).toBe(200);
      expect(await upgrade(c.url, { host }), host).toBe('open');
    }
    const same = await rawRequest(`${c.url}/trpc/sweeps.list`, { headers: { host: `127.0.0.1:${c.port}`, origin: `http://127.0.0.1:${c.port}`, 'sec-fetch-site': 'same-origin' } });
    expect(same.status).toBe(200);
  });

  it('its clients still connect: the CLI, a worker, a bare websocket client, by address and by name', async () => {
    for (const url of [c.url, `http://localhost:${c.port}`]) {
      expect(await apiClient(url).health.query()).toMatchObject({ ok: true });
      const w = await ProtocolClient.connect(url);
      await w.hello('bare');
      w.close();
      const agent = await startWorker({ coordinatorUrl: url, backend: 'cpu', quiet: true, exitWhenIdle: true });
      await expect(agent.done).resolves.toBeUndefined();
    }
  });
});

describe('a coordinator on a network interface (tokens required)', () => {
  it('also answers IP addresses and its machine name, and still refuses other names', async () => {
    const n = await startCoordinator({ host: '0.0.0.0', port: 0, databaseUrl: 'memory://', workerToken: 'worker-token-0123456789abcdef', apiToken: 'api-token-0123456789abcdef' });
    try {
      const url = `http://127.0.0.1:${n.port}`;
      for (const host of [`10.1.2.3:${n.port}`, '10.1.2.3:8080', `${os.hostname()}:${n.port}`, `localhost:${n.port}`]) {
        expect((await rawRequest(`${url}/healthz`, { headers: { host } })).status, host).toBe(200);
      }
      expect((await rawRequest(`${url}/healthz`, { headers: { host: 'evil.example' } })).status).toBe(403);
      expect(await apiClient(url).health.query()).toMatchObject({ ok: true });
    } finally {
      await n.close();
    }
  });

  it('refuses a malformed allow-list at start', async () => {
    await expect(startCoordinator({ port: 0, databaseUrl: 'memory://', allowedHosts: ['http://x/'] })).rejects.toThrow(/allowed hosts: "http:\/\/x\/" is not a host name/);
  });
});

describe('a worker refused at the upgrade', () => {
  it('is told why: its log names the status and the coordinator\'s reason', async () => {
    // A plain TCP relay on another port: the worker's Host names the relay, not the coordinator.
    const relay = net.createServer((s) => {
      const up = net.connect(c.port, '127.0.0.1');
      s.pipe(up).pipe(s);
      const cut = () => (s.destroy(), up.destroy());
      s.on('error', cut);
      up.on('error', cut);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const lines: { err?: string; msg: string }[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const w = await startWorker({ coordinatorUrl: `http://127.0.0.1:${(relay.address() as net.AddressInfo).port}`, backend: 'cpu', quiet: true, log });
    try {
      await until('the worker to log the refusal', () => lines.some((l) => l.err?.includes('refused')), 10_000, 50);
      expect(lines.find((l) => l.err?.includes('refused'))!.err).toMatch(/^the coordinator refused the connection: HTTP 403: Host "127\.0\.0\.1:\d+" is not this coordinator's .*--allowed-hosts/);
    } finally {
      await w.stop();
      relay.close();
    }
  });
});
