// Live subscriptions (server-sent events) against a real coordinator and real streams: capped per
// address and in all, the next answered 429 with a clear message; a closed stream frees its place,
// and a subscription admitted after a refusal (the dashboard's live view retries) gets changes.
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { launch, until } from './helpers.ts';

const open: Coordinator[] = [];
const streams: Stream[] = [];
afterAll(async () => {
  for (const s of streams) s.close();
  await Promise.all(open.map((c) => c.close()));
});

async function coordinator(opts: Parameters<typeof startCoordinator>[0] = {}) {
  const c = await startCoordinator({ port: 0, databaseUrl: 'memory://', ...opts });
  open.push(c);
  return c;
}

interface Stream {
  status: number;
  /** The response so far: the events of a stream, or a refusal's JSON. */
  text: () => string;
  close: () => void;
}

/** GET /trpc/live.changes as an EventSource does, from `localAddress` (127.x.y.z: another peer). */
function subscribe(c: Coordinator, localAddress = '127.0.0.1'): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${c.url}/trpc/live.changes?input=${encodeURIComponent('{}')}`, { localAddress, headers: { accept: 'text/event-stream' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('error', () => {});
      const s: Stream = { status: res.statusCode!, text: () => text, close: () => req.destroy() };
      streams.push(s);
      resolve(s);
    });
    req.on('error', reject);
  });
}

const refusalOf = async (s: Stream) => {
  await until('the refusal to be read', () => s.text().endsWith('}'), 5_000, 10);
  return JSON.parse(s.text()) as { error: { message: string; data: { lmsweepCode: string; httpStatus: number } } };
};

describe('live subscriptions', () => {
  it('are capped per address, and a closed one frees its place', async () => {
    const c = await coordinator({ subscriptionLimits: { maxPerAddress: 2, maxTotal: 3, exemptLoopback: false } });
    const a = [await subscribe(c), await subscribe(c)];
    expect(a.map((s) => s.status)).toEqual([200, 200]);
    const third = await subscribe(c);
    expect(third.status).toBe(429);
    expect(await refusalOf(third)).toMatchObject({ error: { message: 'too many live subscriptions from 127.0.0.1 (at most 2); close one or retry in a while', data: { lmsweepCode: 'TOO_MANY_SUBSCRIPTIONS', httpStatus: 429 } } });
    // Another address still gets one, up to the total.
    expect((await subscribe(c, '127.0.0.2')).status).toBe(200);
    const over = await subscribe(c, '127.0.0.3');
    expect(over.status).toBe(429);
    expect((await refusalOf(over)).error.message).toBe('too many live subscriptions (at most 3 in all); retry in a while');
    // Closing one frees its place (the retry of a refused live view then gets in).
    a[0]!.close();
    let retried: Stream | null = null;
    await until('a retry to be admitted', async () => {
      const s = await subscribe(c);
      if (s.status === 200) retried = s;
      else s.close();
      return retried !== null;
    }, 5_000, 50);
    // …and it carries changes.
    await launch(c.store, 'name: live\ndataset: { name: ptb, vocabSize: 300 }\nseeds: 1');
    await until('a change on the retried stream', () => /"kind":"sweep"/.test(retried!.text()), 10_000, 20);
  });

  it('exempt loopback from the per-address cap by default (the dashboard speaks for every browser), never from the total', async () => {
    const c = await coordinator({ subscriptionLimits: { maxPerAddress: 1, maxTotal: 3 } });
    const mine = [await subscribe(c), await subscribe(c), await subscribe(c)];
    expect(mine.map((s) => s.status)).toEqual([200, 200, 200]);
    const fourth = await subscribe(c);
    expect(fourth.status).toBe(429);
    expect((await refusalOf(fourth)).error.message).toMatch(/at most 3 in all/);
  });
});
