// Partitions between hosts (netns.ts): the coordinator in a network namespace of its own, a worker
// in another, a second worker and PostgreSQL on this host, joined by veth pairs. A worker cut off
// for longer than its lease, then healed: its trial completes once elsewhere and its late writes
// are refused. The coordinator cut from PostgreSQL for 30 s: it carries on when the link heals, and
// no worker is told anything wrong. Nothing lost, nothing doubled.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '@lmsweep/db/testing';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { sleep, until } from './helpers.ts';
import { Hosts, netnsUnavailable } from './netns.ts';

const BIN = path.resolve(import.meta.dirname, '../../../tools/cli/bin/lmsweep.js');
const [WORKER_TOKEN, API_TOKEN] = ['worker-token-of-the-partition-test', 'api-token-of-the-partition-test'];
// Addresses: this host 10.200.3.1 ↔ coordinator 10.200.3.2; coordinator 10.200.1.1 ↔ worker host 10.200.1.2.
const [HERE, COORD, COORD_TO_B, B] = ['10.200.3.1', '10.200.3.2', '10.200.1.1', '10.200.1.2'];
const PORT = 4399;
const OUT = path.resolve(import.meta.dirname, '../../../test-output');
// Two epochs of PTB at this size: a trial trains for ≈ 30 s on one thread here, longer than a cut.
const SPEC = (name: string, seeds: number) =>
  `name: ${name}\ndataset: { name: ptb, vocabSize: 1000 }\nmodel: { embedding: 32, hidden: 32, layers: 1 }\ntraining: { batchSize: 8, unroll: 10, epochs: 2 }\nbudget: { maxSteps: 100000, evalTokens: 500 }\nseeds: ${seeds}\nmaxAttempts: 3`;

const unavailable = netnsUnavailable();
if (unavailable && process.env.CI) throw new Error(`the partition tests cannot run: ${unavailable}`);

let hosts: Hosts;
let nsCoord = '';
let nsB = '';
let pg: TestPostgres;
const procs: ChildProcess[] = [];

interface Proc {
  p: ChildProcess;
  log: () => string;
}
function start(argv: string[], env: NodeJS.ProcessEnv): Proc {
  const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LMSWEEP_LOG_LEVEL: 'info', ...env } });
  procs.push(p);
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const x = { p, log: () => out };
  running.push(x);
  return x;
}
const running: Proc[] = [];
/** Kills what a test started and keeps each process's log in test-output/ (what a failure needs). */
async function stopAll(test: string) {
  mkdirSync(OUT, { recursive: true });
  for (const [i, x] of running.splice(0).entries()) {
    if (x.p.exitCode === null && x.p.signalCode === null) {
      x.p.kill('SIGKILL');
      await new Promise((r) => x.p.once('exit', r));
    }
    writeFileSync(path.join(OUT, `partitions-${test}-${i}.log`), x.log());
  }
}

async function coordinator(leaseMs: number) {
  const database = (await pg.createDatabase()).replace('127.0.0.1', HERE);
  const c = start(Hosts.exec(nsCoord, [process.execPath, BIN, 'coordinator', '--host', '0.0.0.0', '--port', String(PORT), '--allowed-hosts', '*', '--lease-ms', String(leaseMs), '--log', 'json']), {
    DATABASE_URL: database,
    LMSWEEP_WORKER_TOKEN: WORKER_TOKEN,
    LMSWEEP_API_TOKEN: API_TOKEN,
  });
  await until('the coordinator to listen', () => /coordinator listening on/.test(c.log()) || c.p.exitCode !== null, 60_000, 100);
  expect(c.p.exitCode, c.log()).toBeNull();
  return { c, api: apiClient(`http://${COORD}:${PORT}`, API_TOKEN) };
}
const worker = (name: string, ns: string | null, url: string) =>
  start([...(ns ? Hosts.exec(ns, []) : []), process.execPath, BIN, 'worker', '--coordinator', url, '--token', WORKER_TOKEN, '--name', name, '--threads', '1', '--quiet', '--log', 'json'], {});

type Api = Awaited<ReturnType<typeof coordinator>>['api'];
const workerId = async (api: Api, name: string) => {
  let id = '';
  await until(`worker ${name} to connect`, async () => !!(id = (await api.workers.list.query()).find((w) => w.name === name && w.connected)?.id ?? ''), 60_000, 200);
  return id;
};
/** The trial `worker` trains, once it has reported a training loss for it. */
async function training(api: Api, sweepId: string, worker: string) {
  let found: { id: string; attempt: number } | null = null;
  await until(`${worker} to train a trial`, async () => {
    const t = (await api.trials.list.query({ sweepId, status: 'running' })).items.find((x) => x.leaseOwner === worker);
    if (!t) return false;
    const full = await api.trials.get.query({ id: t.id });
    found = { id: t.id, attempt: t.attempt };
    return (full.curves.find((cv) => cv.attempt === t.attempt && cv.name === 'train_loss')?.points.length ?? 0) >= 1;
  }, 90_000, 200);
  return found!;
}
async function finished(api: Api, sweepId: string) {
  await until('the sweep to finish', async () => (await api.sweeps.get.query({ id: sweepId })).status !== 'running', 240_000, 500);
  const trials = (await api.trials.list.query({ sweepId })).items;
  for (const t of trials) {
    const full = await api.trials.get.query({ id: t.id });
    // One curve per attempt, each step once, in order.
    for (const cv of full.curves) {
      const steps = cv.points.map((p) => p.step);
      expect(new Set(steps).size).toBe(steps.length);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
    }
  }
  return trials;
}

describe.skipIf(unavailable !== null)('partitions between hosts', () => {
  beforeAll(async () => {
    hosts = new Hosts();
    nsCoord = hosts.add('c');
    nsB = hosts.add('b');
    hosts.link({ ns: null, addr: `${HERE}/24` }, { ns: nsCoord, addr: `${COORD}/24` });
    hosts.link({ ns: nsCoord, addr: `${COORD_TO_B}/24` }, { ns: nsB, addr: `${B}/24` });
    pg = await startPostgres({ alsoListen: HERE });
  });
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await sleep(200);
    await pg?.stop();
    hosts?.remove();
  });

  afterEach(async (ctx) => stopAll(ctx.task.name.split(' ').slice(1, 4).join('-')));

  it('a worker cut off for longer than its lease, then healed: its trial completes once elsewhere, its late writes are refused', { timeout: 300_000 }, async () => {
    const LEASE = 3_000;
    const { c, api } = await coordinator(LEASE);
    const sweep = await api.sweeps.create.mutate({ spec: SPEC('cut-worker', 1) });
    const victim = worker('victim', nsB, `http://${COORD_TO_B}:${PORT}`);
    const victimId = await workerId(api, 'victim');
    const x = await training(api, sweep.id, victimId);
    // The survivor waits, idle: the sweep's one trial is the victim's.
    worker('survivor', null, `http://${COORD}:${PORT}`);
    const survivorId = await workerId(api, 'survivor');

    hosts.cut(nsCoord, B);
    const cutAt = Date.now();
    // No heartbeat gets through: the reaper takes the trial back once the lease runs out.
    await until('the lease to be reaped', async () => (await api.trials.get.query({ id: x.id })).leaseOwner !== victimId || (await api.trials.get.query({ id: x.id })).status !== 'running', 60_000, 100);
    // (its last heartbeat came up to a third of a lease before the cut)
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual((2 * LEASE) / 3 - 200);
    await sleep(Math.max(0, 4 * LEASE - (Date.now() - cutAt)));
    const lastStep = async () => (await api.trials.get.query({ id: x.id })).curves.find((cv) => cv.attempt === x.attempt && cv.name === 'train_loss')?.points.at(-1)?.step ?? 0;
    const beforeHeal = await lastStep();
    hosts.heal(nsCoord, B);

    const trials = await finished(api, sweep.id);
    expect(trials.map((t) => t.status)).toEqual(['succeeded']);
    const got = await api.trials.get.query({ id: x.id });
    expect(got).toMatchObject({ status: 'succeeded', leaseOwner: survivorId });
    expect(got.attempt).toBeGreaterThan(x.attempt);
    // The victim, back on the network, was told its lease is gone (its heartbeat or its report refused) and stopped the trial.
    await until('the victim to hear its lease is lost', () => victim.log().includes('"why":"lease lost"'), 60_000, 200);
    expect(victim.log()).toContain(`"trialId":"${x.id}"`);
    // What it trained during the cut and sent once healed was refused: its attempt's curve is as the heal found it.
    expect(await lastStep()).toBe(beforeHeal);
    expect(c.p.exitCode).toBeNull();
  });

  it('the coordinator cut from PostgreSQL for 30 s carries on when the link heals; no worker is told anything wrong', { timeout: 300_000 }, async () => {
    // A lease well past the cut and TCP's retransmission backoff after it: nothing should be reaped.
    const { c, api } = await coordinator(120_000);
    const sweep = await api.sweeps.create.mutate({ spec: SPEC('cut-database', 2) });
    const remote = worker('remote', nsB, `http://${COORD_TO_B}:${PORT}`);
    const local = worker('local', null, `http://${COORD}:${PORT}`);
    const [remoteId, localId] = [await workerId(api, 'remote'), await workerId(api, 'local')];
    await training(api, sweep.id, remoteId);
    await training(api, sweep.id, localId);

    hosts.cut(nsCoord, HERE, pg.port);
    await sleep(30_000);
    expect(c.p.exitCode, c.log().slice(-3000)).toBeNull();
    hosts.heal(nsCoord, HERE, pg.port);

    const trials = await finished(api, sweep.id);
    expect(trials.map((t) => [t.status, t.attempt])).toEqual([
      ['succeeded', 1],
      ['succeeded', 1],
    ]);
    expect(new Set(trials.map((t) => t.leaseOwner))).toEqual(new Set([remoteId, localId]));
    for (const w of [remote, local]) expect(w.log()).not.toMatch(/lease lost|LEASE_LOST/);
    expect(c.p.exitCode).toBeNull();
  });
});
