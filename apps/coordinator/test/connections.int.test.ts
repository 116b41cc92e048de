// Bounds on worker sockets against a real coordinator and real websockets: a socket that never
// says hello is closed, a dead peer (no pongs) is dropped, one address cannot hold more than its
// share of silent sockets, and the agent itself notices a coordinator that stopped answering.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { CLOSE_HELLO_TIMEOUT, CLOSE_NOT_HELLO, CLOSE_TOO_BIG } from '../src/gateway.ts';
import { PROTOCOL_VERSION } from '@lmsweep/protocol';
import { startWorker } from '../../worker/src/agent.ts';
import { ProtocolClient } from './ws-client.ts';
import { sleep, until } from './helpers.ts';

const open: Coordinator[] = [];
const clients: ProtocolClient[] = [];
afterAll(async () => {
  for (const w of clients) w.close();
  await Promise.all(open.map((c) => c.close()));
});

async function coordinator(limits: Parameters<typeof startCoordinator>[0] = {}) {
  const c = await startCoordinator({ port: 0, databaseUrl: 'memory://', ...limits });
  open.push(c);
  return c;
}
async function connect(url: string, options?: Parameters<typeof ProtocolClient.connect>[1]) {
  const w = await ProtocolClient.connect(url, options);
  clients.push(w);
  return w;
}

describe('hello timeout', () => {
  it('closes a socket that sends no valid hello in time, with a reason; one that says hello stays', async () => {
    // Long enough for a hello on a loaded machine (connect and hello are two round trips), short for a test.
    const c = await coordinator({ connectionLimits: { helloTimeoutMs: 2_000 } });
    const silent = await connect(c.url);
    const chatty = await connect(c.url); // talks, but not a valid hello: closed at once
    const greeted = await connect(c.url);
    await greeted.hello('on-time');
    chatty.sendRaw('{"type":"hello"}');
    expect(await chatty.next()).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
    await until('the silent sockets to be closed', () => silent.closed !== null && chatty.closed !== null, 15_000, 20);
    expect(silent.closed).toEqual({ code: CLOSE_HELLO_TIMEOUT, reason: 'no valid hello within 2000 ms' });
    expect(chatty.closed?.code).toBe(CLOSE_NOT_HELLO);
    await sleep(500); // past the timeout for the greeted one too (it connected last)
    expect(greeted.closed).toBeNull();
    expect((await greeted.request({ type: 'claim' })).type).toBe('idle');
  });
});

describe('per-address caps', () => {
  it('refuses the N+1th unauthenticated socket from one address at the upgrade (429); a hello frees its place', async () => {
    const c = await coordinator({ connectionLimits: { exemptLoopback: false, maxUnauthenticatedPerAddress: 3, maxPerAddress: 5 } });
    const silent = [await connect(c.url), await connect(c.url), await connect(c.url)];
    await expect(ProtocolClient.connect(c.url)).rejects.toThrow(/Unexpected server response: 429/);
    // Saying hello makes a socket a worker's: another silent one may open.
    await silent[0]!.hello('first');
    const fourth = await connect(c.url);
    await expect(ProtocolClient.connect(c.url)).rejects.toThrow(/429/);
    // A closed socket frees its place too.
    silent[1]!.close();
    await until('the close to be seen', async () => {
      try {
        clients.push(await ProtocolClient.connect(c.url));
        return true;
      } catch {
        return false;
      }
    }, 5_000, 20);
    // All sockets of the address: 5 at most, said hello or not (3 greeted + 2 silent).
    await fourth.hello('second');
    await (await connect(c.url)).hello('third');
    await expect(ProtocolClient.connect(c.url)).rejects.toThrow(/429/);
    // The workers already in keep working.
    expect((await silent[0]!.request({ type: 'claim' })).type).toBe('idle');
  });

  it('exempts loopback by default: many silent sockets from 127.0.0.1 are all admitted', async () => {
    const c = await coordinator();
    const many = await Promise.all(Array.from({ length: 40 }, () => connect(c.url)));
    await sleep(100);
    expect(many.every((w) => w.closed === null)).toBe(true);
    for (const w of many) w.close();
  });
});

describe('what a socket may send (S1)', () => {
  const helloOf = (fields: Record<string, unknown> = {}) => ({ type: 'hello', msgId: 'h', protocol: PROTOCOL_VERSION, name: 'w', host: 'h', backend: 'none', device: 'test', version: 'test', ...fields });

  it('before its hello: a big first frame is cut as it streams in (1009), never assembled and parsed', async () => {
    const c = await coordinator();
    const w = await connect(c.url);
    w.sendRaw(JSON.stringify({ type: 'claim', msgId: 'big', pad: 'x'.repeat(512 << 10) })); // under the 1 MiB message limit
    await until('the socket to be cut', () => w.closed !== null, 5_000, 20);
    expect(w.closed).toEqual({ code: CLOSE_TOO_BIG, reason: 'more than 16384 bytes before the hello was answered' });
    expect(w.received).toEqual([]); // not even a NOT_HELLO: the message was never read whole
  });

  it('before its hello: the largest valid hello (every field at its limit, escaped) is taken', async () => {
    const c = await coordinator({ connectionLimits: { maxUnauthenticated: 4 } });
    const worst = (n: number) => '\u0001'.repeat(n); // JSON escapes each as six bytes
    const hello = helloOf({ msgId: worst(100), workerId: undefined, name: worst(200), host: worst(200), backend: worst(100), device: worst(300), version: worst(50), token: worst(500) });
    expect(Buffer.byteLength(JSON.stringify(hello))).toBeGreaterThan(8_000);
    expect(Buffer.byteLength(JSON.stringify(hello))).toBeLessThan(16_384);
    const w = await connect(c.url);
    w.sendRaw(JSON.stringify(hello));
    expect(await w.next()).toMatchObject({ type: 'welcome' });
    expect((await w.request({ type: 'claim' })).type).toBe('idle');
  });

  it('refuses sockets past a cap on silent sockets from all addresses, loopback included (429)', async () => {
    const c = await coordinator({ connectionLimits: { maxUnauthenticated: 3 } }); // loopback exempt from the per-address caps
    const silent = [await connect(c.url), await connect(c.url), await connect(c.url)];
    await expect(ProtocolClient.connect(c.url)).rejects.toThrow(/Unexpected server response: 429/);
    await silent[0]!.hello('first'); // a hello frees its place
    const next = await connect(c.url);
    await expect(ProtocolClient.connect(c.url)).rejects.toThrow(/429/);
    await next.hello('second');
    expect((await silent[0]!.request({ type: 'claim' })).type).toBe('idle');
  });

  it('after its hello: a socket with a backlog is read no further until it is handled; every message is answered, in order', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
    const c = await coordinator({ log, connectionLimits: { maxBacklogMessages: 4 } });
    const w = await connect(c.url);
    await w.hello('flood');
    const n = 300;
    for (let i = 0; i < n; i++) w.sendRaw(JSON.stringify({ type: 'heartbeat', msgId: `b${i}`, trialId: 'nobody', attempt: 1, progress: 0 }));
    await until('every message to be answered', () => w.received.length >= n + 1, 30_000, 20);
    expect(w.received.slice(1).map((m) => ('replyTo' in m ? m.replyTo : m.type))).toEqual(Array.from({ length: n }, (_, i) => `b${i}`));
    expect(lines.some((l) => l.includes('worker socket paused'))).toBe(true);
    expect(w.closed).toBeNull();
    expect((await w.request({ type: 'claim' })).type).toBe('idle');
  });
});

describe('ping/pong', () => {
  it('drops a peer that stops answering pings; one that answers stays', async () => {
    const c = await coordinator({ connectionLimits: { pingIntervalMs: 150 } });
    const dead = await connect(c.url, { autoPong: false });
    await dead.hello('dead');
    const alive = await connect(c.url);
    await alive.hello('alive');
    await until('the dead peer to be dropped', () => dead.closed !== null, 5_000, 20);
    expect(dead.closed?.code).toBe(1006); // cut, not closed: it would not answer a closing handshake either
    await sleep(500);
    expect(alive.closed).toBeNull();
  });

  it('the agent reconnects when its coordinator stops answering (SIGSTOP), and carries on after SIGCONT', async () => {
    const bin = path.resolve(import.meta.dirname, '../../../tools/cli/bin/lmsweep.js');
    const child = spawn(process.execPath, [bin, 'coordinator', '--port', '0', '--database', 'memory://'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LMSWEEP_LOG_LEVEL: 'silent' } });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await until('the coordinator to listen', () => /listening on (http:\/\/\S+)/.test(out), 60_000, 50);
      const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
      const lines: string[] = [];
      const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
      const w = await startWorker({ coordinatorUrl: url, backend: 'cpu', quiet: true, log, keepaliveMs: 200, reconnectMs: { first: 100, max: 200 } });
      try {
        await until('the agent to connect', () => w.workerId() !== null, 30_000, 20);
        const connects = () => lines.filter((l) => l.includes('"connected"')).length;
        expect(connects()).toBe(1);
        child.kill('SIGSTOP');
        await until('the agent to give up on the frozen socket', () => lines.some((l) => l.includes('coordinator not answering pings')), 5_000, 20);
        child.kill('SIGCONT');
        await until('the agent to reconnect', () => connects() === 2, 30_000, 20);
      } finally {
        await w.stop();
      }
    } finally {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  }, 90_000);
});
