// On a PostgreSQL server: a coordinator process killed (SIGKILL) and restarted mid-sweep, and two coordinators
// sharing one database with workers split between them (exclusive claims through row locks,
// cancels crossing processes through LISTEN/NOTIFY, both reapers running).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '@lmsweep/db/testing';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { startWorker } from '../../worker/src/agent.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { ProtocolClient } from './ws-client.ts';
import { result, sleep, until } from './helpers.ts';

const BIN = path.resolve(import.meta.dirname, '../../../tools/cli/bin/lmsweep.js');
let pg: TestPostgres;
const open: Coordinator[] = [];
const procs: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** `lmsweep coordinator` as its own process, resolved once it listens. */
function coordinatorProcess(port: number, databaseUrl: string): Promise<ChildProcess> {
  const p = spawn(process.execPath, [BIN, 'coordinator', '--port', String(port), '--database', databaseUrl, '--lease-ms', '20000'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LMSWEEP_LOG_LEVEL: 'silent' } });
  procs.push(p);
  return new Promise((resolve, reject) => {
    let buf = '';
    p.stdout!.on('data', (d) => {
      buf += d;
      if (/listening on/.test(buf)) resolve(p);
    });
    p.once('exit', (code) => reject(new Error(`coordinator exited ${code}`)));
  });
}

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const c of open) await c.close();
  await pg?.stop();
});

async function coordinator(opts: Parameters<typeof startCoordinator>[0]): Promise<Coordinator> {
  const c = await startCoordinator(opts);
  open.push(c);
  return c;
}

describe('PostgreSQL', () => {
  it('a coordinator process killed with SIGKILL and restarted mid-sweep: workers reconnect, outboxes deliver, one result per trial', async () => {
    const databaseUrl = await pg.createDatabase();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let proc = await coordinatorProcess(port, databaseUrl);
    const api = apiClient(url);
    const spec = 'name: restart-pg\ndataset: { name: ptb, vocabSize: 200 }\nmodel: { embedding: 8, hidden: 8, layers: 1 }\ntraining: { batchSize: 4, unroll: 5 }\nbudget: { maxSteps: 60, evalTokens: 500 }\nseeds: 3';
    const sweep = await api.sweeps.create.mutate({ spec });
    const w = await startWorker({ coordinatorUrl: url, backend: 'wasm', quiet: true, reconnectMs: { first: 100, max: 400 } });
    try {
      await until('a trial to run', async () => (await api.trials.list.query({ sweepId: sweep.id, status: 'running' })).total === 1);
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
      await sleep(1500); // the worker trains on; its reports wait in the outbox
      proc = await coordinatorProcess(port, databaseUrl);
      await until('the sweep to finish', async () => (await api.sweeps.get.query({ id: sweep.id })).status !== 'running', 90_000);
      const { items } = await api.trials.list.query({ sweepId: sweep.id });
      expect(items.map((t) => t.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      expect(items.every((t) => t.attempt === 1 && Number.isFinite(t.validPpl))).toBe(true);
    } finally {
      await w.stop();
      proc.kill('SIGKILL');
    }
  });

  it('two coordinators, one database: every trial exactly once, cancels cross over, both reapers safe', async () => {
    const databaseUrl = await pg.createDatabase();
    const opts = { port: 0, databaseUrl, leaseMs: 1_500, reapIntervalMs: 100, backoffBaseMs: 0 };
    const a = await coordinator(opts);
    const b = await coordinator(opts);
    const sweep = await apiClient(a.url).sweeps.create.mutate({ spec: { name: 'split', dataset: { name: 'ptb', vocabSize: 300 }, grid: { 'model.hidden': [8, 16, 24, 32, 40, 48, 56, 64] }, seeds: 5 } });
    expect(sweep.trials).toBe(40);

    // A worker on B claims one trial and goes silent: both reapers see the expired lease; it is requeued once.
    const silent = await ProtocolClient.connect(b.url);
    await silent.hello('silent');
    const lost = await silent.request({ type: 'claim' });
    if (lost.type !== 'assign') throw new Error('no trial for the silent worker');

    // Eight simulated workers, four per coordinator, claiming and completing as fast as they can.
    const assigned: { trialId: string; attempt: number; via: string }[] = [];
    const sim = async (c: Coordinator, name: string) => {
      const w = await ProtocolClient.connect(c.url);
      await w.hello(name);
      let idle = 0;
      while (idle < 15) {
        const r = await w.request({ type: 'claim' });
        if (r.type !== 'assign') {
          idle++;
          await sleep(200);
          continue;
        }
        idle = 0;
        assigned.push({ trialId: r.trial.id, attempt: r.trial.attempt, via: name });
        await w.request({ type: 'metric', trialId: r.trial.id, attempt: r.trial.attempt, points: [{ step: 1, epoch: 0, name: 'train_loss', value: 5 }] });
        expect(await w.request({ type: 'complete', trialId: r.trial.id, attempt: r.trial.attempt, result: result(30) })).toMatchObject({ type: 'ack', duplicate: false });
      }
      w.close();
    };
    await Promise.all([...[0, 1, 2, 3].map((i) => sim(a, `a${i}`)), ...[0, 1, 2, 3].map((i) => sim(b, `b${i}`))]);

    const { items } = await a.store.listTrials({ sweepId: sweep.id, limit: 100 });
    expect(items).toHaveLength(40);
    expect(items.every((t) => t.status === 'succeeded')).toBe(true);
    // Exclusive claims: no (trial, attempt) handed out twice, every trial completed once.
    expect(new Set(assigned.map((x) => `${x.trialId}#${x.attempt}`)).size).toBe(assigned.length);
    expect(assigned).toHaveLength(40);
    expect(new Set(assigned.map((x) => x.via.charAt(0)))).toEqual(new Set(['a', 'b']));
    // The silent worker's trial: reaped once (attempt 2, not more), finished by someone else.
    const reaped = items.find((t) => t.id === lost.trial.id)!;
    expect(reaped).toMatchObject({ attempt: 2, status: 'succeeded' });
    expect(await silent.request({ type: 'complete', trialId: lost.trial.id, attempt: 1, result: result(1) })).toMatchObject({ type: 'error', code: 'LEASE_LOST' });
    expect(items.filter((t) => t.id !== lost.trial.id).every((t) => t.attempt === 1)).toBe(true);
    silent.close();

    // A cancel issued through A reaches a worker connected to B (NOTIFY → B's gateway).
    const doomed = await apiClient(a.url).sweeps.create.mutate({ spec: { name: 'doomed', dataset: { name: 'ptb', vocabSize: 300 }, seeds: 1 } });
    const onB = await ProtocolClient.connect(b.url);
    await onB.hello('on-b');
    const t = await onB.request({ type: 'claim' });
    expect(t).toMatchObject({ type: 'assign', trial: { sweepId: doomed.id } });
    if (t.type !== 'assign') return;
    const cancel = onB.next((m) => m.type === 'cancel', 5_000);
    expect(await apiClient(a.url).sweeps.cancel.mutate({ id: doomed.id })).toEqual({ cancelled: 1, running: 1 });
    expect(await cancel).toMatchObject({ type: 'cancel', trialId: t.trial.id, attempt: t.trial.attempt });
    expect((await apiClient(b.url).sweeps.get.query({ id: doomed.id })).status).toBe('cancelled');
    onB.close();
  });

  it('closing a coordinator as its workers disconnect: close returns, and each worker is marked disconnected first', async () => {
    const databaseUrl = await pg.createDatabase();
    const c = await startCoordinator({ port: 0, databaseUrl });
    const names = Array.from({ length: 8 }, (_, i) => `leaving-${i}`);
    const clients = await Promise.all(names.map(async (n) => {
      const w = await ProtocolClient.connect(c.url);
      await w.hello(n);
      return w;
    }));
    // The sockets close and the coordinator closes with their disconnect writes in flight: it
    // used to end PostgreSQL's pool under their begun transactions and wait on them forever.
    for (const w of clients) w.close();
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([c.close().then(() => 'closed'), new Promise((r) => (timer = setTimeout(() => r('still closing after 30 s'), 30_000)))]);
    clearTimeout(timer);
    expect(closed).toBe('closed');
    const after = await coordinator({ port: 0, databaseUrl });
    const workers = (await after.store.listWorkers()).filter((w) => names.includes(w.name));
    expect(workers).toHaveLength(8);
    expect(workers.filter((w) => w.connected)).toEqual([]);
  });
});
