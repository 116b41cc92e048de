// Pruned sweeps through a real coordinator on PGlite, with workers that speak the protocol message
// by message and report known curves: every validation point before the last is judged in its
// metric's answer; ASHA with promotion pauses trials at rungs (each uploads its resume checkpoint,
// then says paused), promotes the best of each rung (claimed again with the checkpoint to resume
// from, on whichever worker claims it), and closes the rest when nothing can promote them; the
// sweep ends with its best configuration trained to the end and the others stopped early. A worker
// that dies while pausing loses nothing: its lease runs out and the trial runs again.
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type AssignedTrial, type PruneVerdict, resumeArtifactName, type TrialResult } from '@lmsweep/protocol';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { ProtocolClient } from './ws-client.ts';
import { sleep, until } from './helpers.ts';

const open: Coordinator[] = [];
afterAll(async () => {
  for (const c of open) await c.close();
});

const LRS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5];
const MAX = 900;
const EVERY = 100;
const spec = (pruner: Record<string, unknown>) => ({
  name: `pruned-${pruner.type}`,
  dataset: { name: 'ptb', vocabSize: 300 },
  model: { embedding: 8, hidden: 8, layers: 1 },
  budget: { maxSteps: MAX, evalEvery: EVERY },
  grid: { 'training.lr': LRS },
  seeds: 2,
  pruner,
});

/** The final perplexity of a learning rate (best at 0.01) and its curve: the same order at every step, seeds 0.5 apart. */
const final = (lr: number, seed: number) => 100 + 30 * (Math.log10(lr) + 2) ** 2 + 0.5 * seed;
const curve = (lr: number, seed: number, step: number) => final(lr, seed) * (1 + 2 * Math.exp(-step / 300));
const lrOf = (t: { config: unknown }) => (t.config as { training: { lr: number } }).training.lr;

const resultOf = (lr: number, seed: number): TrialResult => ({
  params: 1000,
  paramsByLayer: { all: 1000 },
  validPpl: final(lr, seed),
  testPpl: final(lr, seed) + 1,
  steps: MAX,
  tokens: MAX * 400,
  seconds: 0.01,
  tokensPerSecond: 1000,
  vocabSize: 300,
  backend: 'test',
});

interface SimLog {
  /** Steps trained, by every worker, all attempts. */
  steps: number;
  verdicts: PruneVerdict[];
  resumed: { trialId: string; step: number; worker: string }[];
}

/**
 * One simulated worker: claims, trains evaluation by evaluation (resuming where a resume
 * checkpoint says), obeys each verdict, uploads resume checkpoints and says paused. `dieOnPause`:
 * at its first pause verdict it drops the socket and stops (a worker killed while pausing).
 */
async function work(c: Coordinator, name: string, log: SimLog, done: () => Promise<boolean>, opts: { dieOnPause?: boolean } = {}): Promise<void> {
  const w = await ProtocolClient.connect(c.url);
  const workerId = await w.hello(name);
  const welcome = w.received.find((m) => m.type === 'welcome');
  const key = welcome && welcome.type === 'welcome' ? welcome.workerKey : '';
  try {
    while (!(await done())) {
      const r = await w.request({ type: 'claim' });
      if (r.type !== 'assign') {
        await sleep(20);
        continue;
      }
      const t: AssignedTrial = r.trial;
      expect(t.judged).toBe(true);
      const lr = lrOf(t);
      let from = 0;
      if (t.resume) {
        const res = await fetch(`${c.url}/artifacts/${t.id}/${t.resume.name}`);
        const body = new Uint8Array(await res.arrayBuffer());
        expect(createHash('sha256').update(body).digest('hex')).toBe(t.resume.sha256);
        const saved = JSON.parse(new TextDecoder().decode(body)) as { trialId: string; step: number };
        expect(saved).toEqual({ trialId: t.id, step: t.resume.step });
        from = saved.step;
        log.resumed.push({ trialId: t.id, step: from, worker: name });
      }
      let ended = false;
      for (let step = from + EVERY; step <= MAX && !ended; step += EVERY) {
        log.steps += EVERY;
        const judge = step < MAX;
        const ack = await w.request({ type: 'metric', trialId: t.id, attempt: t.attempt, points: [{ step, epoch: step / 1000, name: 'valid_ppl', value: curve(lr, t.seed, step) }], ...(judge ? { judge: true } : {}) });
        expect(ack.type).toBe('ack');
        const verdict = ack.type === 'ack' ? ack.verdict : undefined;
        expect(verdict === undefined).toBe(!judge);
        if (!verdict || verdict.action === 'continue') continue;
        log.verdicts.push(verdict);
        expect(verdict.step).toBe(step);
        ended = true;
        if (verdict.action === 'pause') {
          if (opts.dieOnPause) return;
          const body = new TextEncoder().encode(JSON.stringify({ trialId: t.id, step }));
          const sha256 = createHash('sha256').update(body).digest('hex');
          const put = await fetch(`${c.url}/artifacts/${t.id}/${resumeArtifactName(t.attempt)}`, {
            method: 'PUT',
            body,
            headers: { 'x-lmsweep-worker': workerId, 'x-lmsweep-worker-key': key, 'x-lmsweep-attempt': String(t.attempt), 'x-lmsweep-sha256': sha256 },
          });
          expect(put.status).toBe(200);
          expect(await w.request({ type: 'paused', trialId: t.id, attempt: t.attempt, step, sha256, seconds: 1 })).toMatchObject({ type: 'ack', duplicate: false });
        }
      }
      if (!ended) expect(await w.request({ type: 'complete', trialId: t.id, attempt: t.attempt, result: resultOf(lr, t.seed) })).toMatchObject({ type: 'ack', duplicate: false });
    }
  } finally {
    w.close();
  }
}

async function coordinator(leaseMs = 20_000): Promise<Coordinator> {
  const c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs, backoffBaseMs: 0, reapIntervalMs: 100 });
  open.push(c);
  return c;
}

async function runSweep(c: Coordinator, pruner: Record<string, unknown>, workers: { name: string; dieOnPause?: boolean }[]) {
  const api = apiClient(c.url);
  const sweep = await api.sweeps.create.mutate({ spec: spec(pruner) });
  const log: SimLog = { steps: 0, verdicts: [], resumed: [] };
  const done = async () => (await api.sweeps.get.query({ id: sweep.id })).status !== 'running';
  await Promise.all(workers.map((w) => work(c, w.name, log, done, w)));
  const { items } = await c.store.listTrials({ sweepId: sweep.id, limit: 100 });
  return { sweep: await api.sweeps.get.query({ id: sweep.id }), items, log };
}

describe('a pruned sweep', () => {
  it('ASHA with promotion: pauses at rungs, resumes the best from their checkpoints on any worker, closes the rest; the best configuration trains to the end', async () => {
    const c = await coordinator();
    const { sweep, items, log } = await runSweep(c, { type: 'asha', minSteps: 100, reduction: 3, promotion: true }, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    expect(sweep.status).toBe('succeeded');
    expect(items).toHaveLength(18);
    expect(items.every((t) => t.status === 'succeeded' || t.status === 'pruned')).toBe(true);
    // Seeds of a configuration are judged together: never split between finished and stopped.
    const byLr = new Map<number, string[]>();
    for (const t of items) byLr.set(lrOf(t), [...(byLr.get(lrOf(t)) ?? []), t.status]);
    for (const statuses of byLr.values()) expect(new Set(statuses).size).toBe(1);
    const finished = [...byLr].filter(([, s]) => s[0] === 'succeeded').map(([lr]) => lr);
    expect(finished).toEqual([0.01]);
    // Every pause before the end was resumed or closed: promoted trials carry their segments, and each resume started where its pause stopped.
    const promoted = items.filter((t) => t.promotions > 0);
    expect(promoted.length).toBeGreaterThan(0);
    for (const t of promoted) {
      const segments = t.segments as { attempt: number; through: number }[];
      // A pause is a segment; the last one may have been closed instead of promoted.
      expect(segments.length - t.promotions).toBe(t.status === 'succeeded' ? 0 : 1);
      expect(log.resumed.filter((r) => r.trialId === t.id).map((r) => r.step)).toEqual(segments.slice(0, t.promotions).map((s) => s.through));
    }
    // Pruned trials keep where they stopped; no trial ends paused.
    for (const t of items.filter((x) => x.status === 'pruned')) {
      expect(t.steps).toBeGreaterThan(0);
      expect(t.steps).toBeLessThan(MAX);
      expect((t.verdict as { reason: string }).reason).toMatch(/^pruned at step|paused at step/);
    }
    // It trained a fraction of what the full grid would (18 trials × 900 steps).
    expect(log.steps).toBeLessThan(0.5 * 18 * MAX);
    expect(log.verdicts.some((v) => v.action === 'pause')).toBe(true);
  });

  it('median: stops trials worse than the median of the finished ones; nothing pauses', async () => {
    const c = await coordinator();
    const { sweep, items, log } = await runSweep(c, { type: 'median', warmupTrials: 2, warmupSteps: 100 }, [{ name: 'a' }, { name: 'b' }]);
    expect(sweep.status).toBe('succeeded');
    expect(items.some((t) => t.status === 'pruned')).toBe(true);
    expect(items.filter((t) => lrOf(t) === 0.01).every((t) => t.status === 'succeeded')).toBe(true);
    expect(log.verdicts.every((v) => v.action === 'stop')).toBe(true);
    expect(items.every((t) => t.promotions === 0)).toBe(true);
  });

  it('a worker killed while pausing loses nothing: the trial runs again once its lease runs out, and the sweep ends as it would', async () => {
    const c = await coordinator(1_500);
    const api = apiClient(c.url);
    const sweep = await api.sweeps.create.mutate({ spec: spec({ type: 'asha', minSteps: 100, reduction: 3, promotion: true }) });
    const log: SimLog = { steps: 0, verdicts: [], resumed: [] };
    const done = async () => (await api.sweeps.get.query({ id: sweep.id })).status !== 'running';
    // The doomed worker pauses nothing: its first pause verdict kills it (no checkpoint, no `paused`).
    await work(c, 'doomed', log, done, { dieOnPause: true });
    const doomed = log.verdicts.at(-1)!;
    expect(doomed.action).toBe('pause');
    await Promise.all(['a', 'b'].map((name) => work(c, name, log, done)));
    const { items } = await c.store.listTrials({ sweepId: sweep.id, limit: 100 });
    expect((await api.sweeps.get.query({ id: sweep.id })).status).toBe('succeeded');
    expect(items.every((t) => t.status === 'succeeded' || t.status === 'pruned')).toBe(true);
    expect(items.filter((t) => t.status === 'succeeded').map(lrOf)).toEqual([0.01, 0.01]);
    // The dead attempt was reaped and the trial claimed again: more than one attempt on it.
    expect(items.some((t) => t.attempt > 1 && (t.segments as unknown[]).length < t.attempt)).toBe(true);
    await until('nothing left running', async () => (await c.store.getSweep(sweep.id))!.counts.running === 0, 5_000);
  });
});
