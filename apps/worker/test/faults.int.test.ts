// Faults injected for real against a real coordinator and the real agent: a worker process killed
// with SIGKILL mid-trial (of a plain sweep, and of a pruned one while it trains a promoted trial),
// trials that throw or diverge (with retries), a sweep cancelled under a running trial. Nothing is
// lost, nothing is counted twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '../../coordinator/src/server.ts';
import { launch, until } from '../../coordinator/test/helpers.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { startWorker, type WorkerHandle } from '../src/agent.ts';

const BIN = path.resolve(import.meta.dirname, '../../../tools/cli/bin/lmsweep.js');
const TINY = 'dataset: { name: ptb, vocabSize: 200 }\nmodel: { embedding: 8, hidden: 8, layers: 1 }\ntraining: { batchSize: 4, unroll: 5 }';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-faults-'));
// Short: the agents train in processes of their own, so nothing blocks the event loop that
// heartbeats (loading PTB used to, and took most of a 4 s lease on a busy 2-core machine).
const LEASE_MS = 2_000;
let c: Coordinator;
const children: ChildProcess[] = [];
const workers: WorkerHandle[] = [];

beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: LEASE_MS, reapIntervalMs: 200, backoffBaseMs: 300 });
});
afterAll(async () => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.stop()));
  await c?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const running = async (sweepId: string) => (await c.store.listTrials({ sweepId, status: 'running' })).items;

describe('faults', () => {
  it('a worker killed with SIGKILL mid-trial: requeued at lease expiry, completed once elsewhere, curves kept apart by attempt', async () => {
    const sweep = await launch(c.store, `name: sigkill\n${TINY}\nbudget: { maxSteps: 200, evalTokens: 500 }\nmaxAttempts: 3`); // the victim's attempt, the survivor's, one spare
    const victim = spawn(process.execPath, [BIN, 'worker', '--coordinator', c.url, '--backend', 'wasm', '--threads', '1', '--name', 'victim', '--quiet'], { stdio: 'ignore', env: { ...process.env, LMSWEEP_LOG_LEVEL: 'silent' } });
    children.push(victim);
    // Wait until the victim has trained a while and its metrics for attempt 1 are stored.
    let trialId = '';
    let deadAttempt = 0;
    await until('the victim to report metrics', async () => {
      const [t] = await running(sweep.id);
      if (!t) return false;
      trialId = t.id;
      deadAttempt = t.attempt;
      return ((await c.store.getTrial(t.id))?.curves.find((cv) => cv.attempt === t.attempt && cv.name === 'train_loss')?.points.length ?? 0) >= 2;
    }, 90_000, 50);
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    // Nobody heartbeats it now: the reaper requeues it once the lease runs out, not before.
    await until('the lease to be reaped', async () => (await c.store.getTrial(trialId))?.status === 'queued', 10_000, 50);
    expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 3_000);
    const survivor = await startWorker({ coordinatorUrl: c.url, backend: 'wasm', quiet: true, name: 'survivor' });
    workers.push(survivor);
    await until('the sweep to finish', async () => (await c.store.getSweep(sweep.id))?.status !== 'running', 90_000);
    const t = await apiClient(c.url).trials.get.query({ id: trialId });
    // The survivor's first claim of it wins: its heartbeats never wait behind loading the corpus
    // or a training step (that used to cost a lease, and an attempt, on a busy machine).
    expect(t).toMatchObject({ status: 'succeeded', leaseOwner: survivor.workerId(), attempt: deadAttempt + 1 });
    // Each attempt's curve is its own; the winner's starts from the beginning again and is not mixed.
    const loss = (a: number) => t.curves.find((cv) => cv.attempt === a && cv.name === 'train_loss')!.points.map((p) => p.step);
    const dead = loss(deadAttempt);
    const winner = loss(t.attempt);
    expect(dead.length).toBeGreaterThanOrEqual(2);
    expect(winner.at(-1)).toBe(200);
    expect(new Set(winner).size).toBe(winner.length);
    expect(winner).toEqual([...winner].sort((a, b) => a - b));
    expect(dead.at(-1)!).toBeLessThan(200);
    expect(t.curves.every((cv) => cv.attempt <= t.attempt)).toBe(true);
    for (const cv of t.curves) expect(new Set(cv.points.map((p) => p.step)).size).toBe(cv.points.length);
    await survivor.stop();
  });

  it('a pruned sweep (ASHA with promotion) whose worker is killed with SIGKILL while it trains a resumed trial: the trial resumes again from its stored checkpoint elsewhere, nothing lost or doubled', async () => {
    const spec = `name: pruned-sigkill\n${TINY.replace('unroll: 5', 'unroll: 5, optimizer: adam')}\nbudget: { maxSteps: 270, evalEvery: 10, evalTokens: 400 }\nmaxAttempts: 3\ngrid: { training.lr: [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1] }\npruner: { type: asha, minSteps: 10, reduction: 3, promotion: true }`;
    const sweep = await launch(c.store, spec);
    const victim = spawn(process.execPath, [BIN, 'worker', '--coordinator', c.url, '--backend', 'wasm', '--threads', '1', '--name', 'pruned-victim', '--quiet'], { stdio: 'ignore', env: { ...process.env, LMSWEEP_LOG_LEVEL: 'silent' } });
    children.push(victim);
    // Wait until the victim trains a promoted trial past the rung it resumed from.
    let trialId = '';
    let deadAttempt = 0;
    let resumedFrom = 0;
    await until('the victim to train a promoted trial past its rung', async () => {
      for (const t of await running(sweep.id)) {
        if (t.promotions === 0) continue;
        const full = (await c.store.getTrial(t.id))!;
        const through = (full.segments as { through: number }[]).at(-1)!.through;
        const steps = full.curves.find((cv) => cv.attempt === t.attempt && cv.name === 'train_loss')?.points.map((p) => p.step) ?? [];
        if (steps.some((s) => s > through)) {
          [trialId, deadAttempt, resumedFrom] = [t.id, t.attempt, through];
          return true;
        }
      }
      return false;
    }, 120_000, 20);
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    await until('the lease to be reaped', async () => (await c.store.getTrial(trialId))?.status === 'queued', 10_000, 50);
    const survivor = await startWorker({ coordinatorUrl: c.url, backend: 'wasm', quiet: true, name: 'pruned-survivor' });
    workers.push(survivor);
    await until('the pruned sweep to finish', async () => (await c.store.getSweep(sweep.id))?.status !== 'running', 180_000);
    expect((await c.store.getSweep(sweep.id))!.status).toBe('succeeded');
    const { items } = await c.store.listTrials({ sweepId: sweep.id, limit: 100 });
    expect(items).toHaveLength(6);
    expect(items.every((t) => t.status === 'succeeded' || t.status === 'pruned')).toBe(true);
    expect(items.filter((t) => t.status === 'succeeded').length).toBeGreaterThanOrEqual(1);
    const t = (await c.store.getTrial(trialId))!;
    expect(t.attempt).toBeGreaterThan(deadAttempt);
    // The attempt after the kill started from the checkpoint stored at the last pause, not from step 0.
    const segments = t.segments as { attempt: number; through: number }[];
    expect(segments.find((s) => s.attempt === deadAttempt)).toBeUndefined(); // the killed attempt paused nowhere
    const next = deadAttempt + 1;
    const after = t.curves.find((cv) => cv.attempt === next && cv.name === 'train_loss')!.points.map((p) => p.step);
    // (train_loss is logged every 10 steps here: the first point after the rung is the next multiple of 10, not step 1.)
    expect(after[0]).toBe(resumedFrom + 10);
    // Every trial's curve, stitched from its attempts, has each step once and in order; a finished one reaches the budget.
    for (const row of items) {
      const full = (await c.store.getTrial(row.id))!;
      const segs = full.segments as { attempt: number; through: number }[];
      const of = (a: number) => full.curves.find((cv) => cv.attempt === a && cv.name === 'valid_ppl')?.points.map((p) => p.step) ?? [];
      const steps: number[] = [];
      let from = -1;
      for (const s of segs) {
        steps.push(...of(s.attempt).filter((x) => x > from && x <= s.through));
        from = s.through;
      }
      if (full.status === 'succeeded') steps.push(...of(full.attempt).filter((x) => x > from));
      expect(steps).toEqual([...new Set(steps)].sort((a, b) => a - b));
      if (full.status === 'succeeded') expect(steps.at(-1)).toBe(270);
      else expect(full.steps).toBe(steps.at(-1));
      for (const cv of full.curves) expect(new Set(cv.points.map((p) => p.step)).size).toBe(cv.points.length);
    }
    await survivor.stop();
  }, 300_000);

  it('a trial that throws is retried with backoff up to maxAttempts, then failed with the reason; one that diverges fails at once; the worker survives', async () => {
    // Passes the launch check (train/valid/test files are there) but cannot be read on the worker.
    const corrupt = path.join(tmp, 'corrupt');
    mkdirSync(corrupt);
    writeFileSync(path.join(corrupt, 'train.txt.gz'), gzipSync('a b c '.repeat(10_000)).subarray(0, 40)); // truncated
    for (const s of ['valid', 'test']) writeFileSync(path.join(corrupt, `${s}.txt`), 'a b c\n');
    const api = apiClient(c.url);
    const broken = await api.sweeps.create.mutate({ spec: { name: 'throws', dataset: { name: corrupt, vocabSize: 200 }, model: { embedding: 8, hidden: 8, layers: 1 }, maxAttempts: 3 } });
    // Adam at lr 100, no clipping: the loss blows up and perplexity overflows (DivergedError, not retried).
    const diverges = await api.sweeps.create.mutate({ spec: `name: diverges\n${TINY.replace('layers: 1', 'layers: 1, initScale: 1').replace('unroll: 5', 'unroll: 5, lr: 100, clip: 1000000, optimizer: adam')}\nbudget: { maxSteps: 50, evalTokens: 200 }\nmaxAttempts: 3` });
    const fine = await api.sweeps.create.mutate({ spec: `name: fine\n${TINY}\nbudget: { maxSteps: 10, evalTokens: 200 }` });
    const w = await startWorker({ coordinatorUrl: c.url, backend: 'wasm', quiet: true, name: 'sturdy' });
    workers.push(w);
    await until('all three sweeps to finish', async () => {
      const s = await Promise.all([broken, diverges, fine].map((x) => c.store.getSweep(x.id)));
      return s.every((x) => x?.status !== 'running');
    }, 90_000);
    const [b] = (await c.store.listTrials({ sweepId: broken.id })).items;
    expect(b).toMatchObject({ status: 'failed', attempt: 3 });
    expect(b!.error).toMatch(/^Error: .*(unexpected end|incorrect header|gzip|too short)/i);
    const [d] = (await c.store.listTrials({ sweepId: diverges.id })).items;
    // Not retried: a diverged run with the same seed diverges again at the same step. So the first
    // attempt, which diverged, is the last one (no lease is lost to a busy event loop any more).
    expect(d).toMatchObject({ status: 'failed', attempt: 1 });
    const divergedAt = Number(/diverged at step (\d+)/.exec(d!.error ?? '')?.[1]);
    expect(divergedAt).toBeGreaterThan(0);
    const curves = (await c.store.getTrial(d!.id))!.curves;
    const lastStep = Math.max(-1, ...curves.flatMap((cv) => cv.points.map((p) => p.step)));
    expect(lastStep).toBe(divergedAt);
    expect((await c.store.listTrials({ sweepId: fine.id })).items[0]).toMatchObject({ status: 'succeeded' });
    await w.stop();
  });

  it('cancelling a sweep aborts its running trial on the real agent at once; the worker claims other work', async () => {
    const long = await launch(c.store, `name: endless\n${TINY}\nbudget: { maxSteps: 100000 }`);
    const w = await startWorker({ coordinatorUrl: c.url, backend: 'wasm', quiet: true, name: 'obedient' });
    workers.push(w);
    await until('the long trial to run', async () => (await running(long.id)).length === 1, 60_000, 50);
    const [t] = await running(long.id);
    const next = await launch(c.store, `name: next\n${TINY}\nbudget: { maxSteps: 5, evalTokens: 200 }`);
    const cancelledAt = Date.now();
    expect(await apiClient(c.url).sweeps.cancel.mutate({ id: long.id })).toEqual({ cancelled: 1, running: 1 });
    // The cancel is pushed (NOTIFY → gateway → agent): within one heartbeat the worker has moved on.
    await until('the worker to claim other work', async () => (await c.store.listTrials({ sweepId: next.id })).items[0]!.status !== 'queued', 10_000, 25);
    expect(Date.now() - cancelledAt).toBeLessThan(LEASE_MS / 3 + 1_000);
    const stepsAtCancel = (await c.store.getTrial(t!.id))!.curves.find((cv) => cv.name === 'train_loss')?.points.length ?? 0;
    await until('the next sweep to finish', async () => (await c.store.getSweep(next.id))?.status === 'succeeded', 60_000);
    const after = await c.store.getTrial(t!.id);
    expect(after).toMatchObject({ status: 'cancelled', validPpl: null });
    expect(after!.curves.find((cv) => cv.name === 'train_loss')?.points.length ?? 0).toBe(stepsAtCancel);
    await w.stop();
  });
});
