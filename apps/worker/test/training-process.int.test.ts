// Training off the agent's event loop, against a real coordinator and the real agent: heartbeats
// stay on time while every training step takes seconds, and a training process that dies
// mid-trial costs that attempt (retryable), not the agent, which trains on in a fresh process.
import { Writable } from 'node:stream';
import pino from 'pino';
import type { TrialResult } from '@lmsweep/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '../../coordinator/src/server.ts';
import { launch, until } from '../../coordinator/test/helpers.ts';
import { startWorker, type WorkerHandle } from '../src/agent.ts';

const TINY = 'dataset: { name: ptb, vocabSize: 200 }\nmodel: { embedding: 8, hidden: 8, layers: 1 }\ntraining: { batchSize: 4, unroll: 5 }';
// Heartbeats every 500 ms: a step on the agent's own event loop would hold them up for seconds.
const LEASE_MS = 1_500;
const HEARTBEAT_MS = LEASE_MS / 3;
let c: Coordinator;
const workers: WorkerHandle[] = [];
/** When the coordinator stored each batch of heartbeats, per trial. */
const beats = new Map<string, number[]>();
const fails: { trialId: string; attempt: number; kind: string; retryable: boolean; error: string }[] = [];

beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: LEASE_MS, reapIntervalMs: 100, backoffBaseMs: 100 });
  const store = c.store;
  const heartbeatMany = store.heartbeatMany.bind(store);
  store.heartbeatMany = (list, leaseMs) => {
    const now = Date.now();
    for (const b of list) beats.set(b.trialId, [...(beats.get(b.trialId) ?? []), now]);
    return heartbeatMany(list, leaseMs);
  };
  const fail = store.fail.bind(store);
  store.fail = (trialId, workerId, attempt, f) => {
    fails.push({ trialId, attempt, kind: f.kind, retryable: f.retryable, error: f.error });
    return fail(trialId, workerId, attempt, f);
  };
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await c?.close();
});

/** A logger whose records the test reads (the agent logs its training process's pid). */
function recordingLog() {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), records };
}

describe('training in its own process', () => {
  it('heartbeats reach the coordinator on time while each training step takes seconds', async () => {
    // A real long step: PTB's 10k vocabulary, 650 wide, 64 × 35 tokens (≈ 1 GFLOP a token with its backward).
    const sweep = await launch(c.store, 'name: long-steps\ndataset: { name: ptb, vocabSize: 10000 }\nmodel: { embedding: 650, hidden: 650, layers: 2 }\ntraining: { batchSize: 64, unroll: 35 }\nbudget: { maxSteps: 3, evalTokens: 200 }\nmaxAttempts: 1');
    const w = await startWorker({ coordinatorUrl: c.url, backend: 'wasm', quiet: true, name: 'steady', maxTrials: 1 });
    workers.push(w);
    await w.done;
    const [t] = (await c.store.listTrials({ sweepId: sweep.id })).items;
    // One attempt, never reaped: the lease (3 heartbeats) held throughout.
    expect(t).toMatchObject({ status: 'succeeded', attempt: 1 });
    const r = (await c.store.getTrial(t!.id))!.result as TrialResult;
    const stepMs = (1000 * r.tokens) / r.tokensPerSecond / r.steps;
    const at = beats.get(t!.id)!;
    const gaps = at.slice(1).map((b, i) => b - at[i]!);
    const maxGap = Math.max(...gaps);
    // The test means something only where a step is longer than the gaps allowed.
    expect(stepMs, `a training step (${Math.round(stepMs)} ms) must outlast the heartbeat gaps allowed`).toBeGreaterThan(3 * HEARTBEAT_MS);
    expect(maxGap, `heartbeat gaps ${gaps.join(', ')} ms; a step ${Math.round(stepMs)} ms`).toBeLessThan(2.5 * HEARTBEAT_MS);
  }, 240_000);

  it('a training process killed mid-trial fails that attempt retryably; the agent trains on in a fresh process', async () => {
    const { log, records } = recordingLog();
    const pids = () => records.filter((r) => r.msg === 'training process started').map((r) => r.pid as number);
    const first = await launch(c.store, `name: crash\n${TINY}\nbudget: { maxSteps: 400, evalTokens: 500 }\nmaxAttempts: 3`);
    const w = await startWorker({ coordinatorUrl: c.url, backend: 'wasm', quiet: true, name: 'phoenix', log });
    workers.push(w);
    let trialId = '';
    await until('the trial to report metrics', async () => {
      const [t] = (await c.store.listTrials({ sweepId: first.id, status: 'running' })).items;
      if (!t) return false;
      trialId = t.id;
      return ((await c.store.getTrial(t.id))?.curves.find((cv) => cv.name === 'train_loss')?.points.length ?? 0) >= 2;
    }, 90_000, 25);
    const [victim] = pids();
    expect(victim).toBeGreaterThan(0);
    process.kill(victim!, 'SIGKILL');
    const second = await launch(c.store, `name: after-crash\n${TINY}\nbudget: { maxSteps: 10, evalTokens: 200 }`);
    await until('both sweeps to finish', async () => (await Promise.all([first, second].map((s) => c.store.getSweep(s.id)))).every((s) => s?.status === 'succeeded'), 120_000);
    // The killed attempt was failed once, retryably, with the reason; the retry won, on the same agent.
    expect(fails.filter((f) => f.trialId === trialId)).toEqual([expect.objectContaining({ attempt: 1, kind: 'error', retryable: true, error: expect.stringMatching(/^TrainingProcessDiedError: the training process ended during the trial \(signal SIGKILL\)/) })]);
    const t = (await c.store.getTrial(trialId))!;
    expect(t).toMatchObject({ status: 'succeeded', attempt: 2, leaseOwner: w.workerId() });
    const winner = t.curves.find((cv) => cv.attempt === 2 && cv.name === 'train_loss')!.points.map((p) => p.step);
    expect(winner.at(-1)).toBe(400);
    const [next] = (await c.store.listTrials({ sweepId: second.id })).items;
    expect(next).toMatchObject({ status: 'succeeded', attempt: 1, leaseOwner: w.workerId() });
    // A fresh training process, started once, took over.
    expect(pids()).toHaveLength(2);
    expect(pids()[1]).not.toBe(victim);
    await w.stop();
  }, 240_000);
});
