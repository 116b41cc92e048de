// `lmsweep slurm` against a real one-node Slurm (slurm-cluster.ts): a job array of two workers,
// submitted with no hand-started process but the coordinator, runs a sweep to the end while one
// of its tasks is scancelled mid-trial (that trial completes once, elsewhere); the workers report
// their job ids; `launch --slurm-workers` queues a sweep and its workers at once; a job the
// coordinator refuses to record is cancelled again.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '@lmsweep/coordinator';
import { launch, until } from '../../../apps/coordinator/test/helpers.ts';
import { type SlurmCluster, slurmUnavailable, startSlurmCluster } from './slurm-cluster.ts';

const BIN = path.resolve(import.meta.dirname, '../bin/lmsweep.js');
const API_TOKEN = 'api-token-of-the-slurm-test';
const WORKER_TOKEN = 'worker-token-of-the-slurm-test';
const MODEL = 'dataset: { name: ptb, vocabSize: 1000 }\nmodel: { embedding: 32, hidden: 32, layers: 1 }\ntraining: { batchSize: 8, unroll: 10 }';
const unavailable = slurmUnavailable();
// CI installs Slurm (.ci/run): there, a missing one is a failure, not a skip.
if (unavailable && process.env.CI) throw new Error(`the Slurm test cannot run: ${unavailable}`);

let cluster: SlurmCluster;
let c: Coordinator;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-slurm-test-'));

async function lmsweep(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...cluster.env, LMSWEEP_URL: c.url, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
const squeue = async () => (await promisify(execFile)('squeue', ['--noheader', '--array', '--format=%i %T'], { env: cluster.env })).stdout.trim();

describe.skipIf(unavailable !== null)('lmsweep slurm on a one-node Slurm', () => {
  beforeAll(async () => {
    cluster = await startSlurmCluster();
    c = await startCoordinator({ port: 0, databaseUrl: 'memory://', apiToken: API_TOKEN, workerToken: WORKER_TOKEN, leaseMs: 3_000, reapIntervalMs: 200, log: pino({ level: 'silent' }) });
  });
  // Each test starts from an empty queue: a failed one's workers must not take the next one's trials.
  afterEach(async () => {
    await promisify(execFile)('scancel', ['--me'], { env: cluster.env }).catch(() => undefined);
    await until('the queue to empty', async () => (await squeue()) === '', 60_000, 500);
  });
  afterAll(async () => {
    await cluster?.stop();
    await c?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('submit --workers 2 runs a sweep to the end; a task scancelled mid-trial gives its trial back, which completes once elsewhere', { timeout: 400_000 }, async () => {
    const sweep = await launch(c.store, `name: on-slurm\n${MODEL}\nbudget: { maxSteps: 100000, evalTokens: 500 }\nseeds: 2`);
    const logs = path.join(tmp, 'logs');
    // The API token in LMSWEEP_TOKEN, as a shell holds it: the workers must get the worker token there instead, or the coordinator refuses them.
    const sub = await lmsweep(['slurm', 'submit', '--workers', '2', '--cpus-per-worker', '1', '--logs', logs, '--worker-token', WORKER_TOKEN], { LMSWEEP_LOG_LEVEL: 'info', LMSWEEP_TOKEN: API_TOKEN });
    expect(sub.stderr).toContain('cannot reach it'); // the loopback note
    expect(sub.code, sub.stderr).toBe(0);
    const job = /submitted job (\d+): 2 workers/.exec(sub.stdout)?.[1];
    expect(job, sub.stdout).toBeDefined();
    expect((await c.store.listSlurmJobs()).map((j) => ({ id: j.id, workers: j.workers, cpus: j.cpusPerWorker, logDir: j.logDir }))).toEqual([{ id: job, workers: 2, cpus: 1, logDir: logs }]);

    // Both tasks start a worker, which says which task it is.
    const slurmWorkers = async () => (await c.store.listWorkers()).filter((w) => w.slurmJob?.startsWith(`${job}_`));
    await until('both array tasks to connect a worker', async () => (await slurmWorkers()).filter((w) => w.connected).length === 2, 90_000, 200);
    expect((await slurmWorkers()).map((w) => [w.slurmJob, w.name]).sort()).toEqual([
      [`${job}_0`, `slurm-${job}_0`],
      [`${job}_1`, `slurm-${job}_1`],
    ]);
    // `lmsweep workers` shows each one's job.
    const table = await lmsweep(['workers']);
    expect(table.stdout).toMatch(new RegExp(`slurm-${job}_0 .* ${job}_0 `));
    const victim = (await slurmWorkers()).find((w) => w.slurmJob === `${job}_0`)!;
    const survivor = (await slurmWorkers()).find((w) => w.slurmJob === `${job}_1`)!;

    // The victim is mid-trial, far from its end (a trial trains for ≈ 15 s here): it holds a lease and has reported metrics for it.
    let trialId = '';
    let attempt = 0;
    await until('task 0 to train a trial', async () => {
      const t = (await c.store.listTrials({ sweepId: sweep.id, status: 'running' })).items.find((x) => x.leaseOwner === victim.id);
      if (!t) return false;
      [trialId, attempt] = [t.id, t.attempt];
      if ((t.progress ?? 0) > 0.3) throw new Error(`task 0 got to ${t.progress} of its trial before the test saw it: make the trial longer`);
      return ((await c.store.getTrial(t.id))?.curves.find((cv) => cv.attempt === t.attempt && cv.name === 'train_loss')?.points.length ?? 0) >= 1;
    }, 90_000, 100);

    const status = await lmsweep(['slurm', 'status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const rows = status.stdout.trim().split('\n').map((l) => JSON.parse(l) as { job: string; task: number; state: string; where: string; worker: { id: string; connected: boolean } | null });
    expect(rows.map((r) => [r.job, r.task, r.state, r.where, r.worker?.id, r.worker?.connected])).toEqual([
      [job, 0, 'RUNNING', cluster.node, victim.id, true],
      [job, 1, 'RUNNING', cluster.node, survivor.id, true],
    ]);

    const cancel = await lmsweep(['slurm', 'cancel', `${job}_0`, '--token', API_TOKEN]);
    expect(cancel.code, cancel.stderr).toBe(0);
    // SIGTERM: the victim gives the trial back (no lease to wait out) and leaves.
    await until('the victim to disconnect', async () => !(await c.store.listWorkers()).find((w) => w.id === victim.id)!.connected, 30_000, 100);
    await until('the sweep to finish', async () => (await c.store.getSweep(sweep.id))?.status !== 'running', 180_000, 250);

    const trials = (await c.store.listTrials({ sweepId: sweep.id })).items;
    expect(trials.map((t) => t.status)).toEqual(['succeeded', 'succeeded']);
    expect(trials.every((t) => t.leaseOwner === victim.id || t.leaseOwner === survivor.id)).toBe(true);
    const given = (await c.store.getTrial(trialId))!;
    // Completed once, by the survivor, on a later attempt; the victim's partial curve is kept apart.
    expect(given).toMatchObject({ status: 'succeeded', leaseOwner: survivor.id });
    expect(given.attempt).toBeGreaterThan(attempt);
    const lossSteps = (t: NonNullable<Awaited<ReturnType<typeof c.store.getTrial>>>) => t.curves.find((cv) => cv.attempt === t.attempt && cv.name === 'train_loss')!.points.map((p) => p.step);
    const steps = lossSteps(given);
    // To the end of its schedule (one epoch of PTB here, before maxSteps), as the other seed.
    expect(steps.at(-1)).toBe(lossSteps((await c.store.getTrial(trials.find((t) => t.id !== trialId)!.id))!).at(-1));
    expect(new Set(steps).size).toBe(steps.length);

    // The survivor leaves when nothing is left, and the array ends.
    await until('the array to leave the queue', async () => (await squeue()) === '', 60_000, 500);
    const after = (await lmsweep(['slurm', 'status', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { state: string; worker: { connected: boolean } });
    expect(after.map((r) => [r.state, r.worker.connected])).toEqual([
      ['ended', false],
      ['ended', false],
    ]);
    // Where squeue is not on PATH (not a host of the cluster): the states are unknown, and it says why.
    const away = await lmsweep(['slurm', 'status'], { PATH: '/nonexistent' });
    expect(away.code, away.stderr).toBe(0);
    expect(away.stderr).toContain('squeue is not on PATH here');
    const awayRows = (await lmsweep(['slurm', 'status', '--json'], { PATH: '/nonexistent' })).stdout.trim().split('\n').map((l) => JSON.parse(l) as { state: string });
    expect(awayRows.map((r) => r.state)).toEqual(['unknown', 'unknown']);
    // Each task wrote its log where --logs said: the victim's says it stopped on the signal.
    const victimLog = path.join(logs, `lmsweep-worker-${job}_0.out`);
    expect(existsSync(victimLog)).toBe(true);
    expect(readFileSync(victimLog, 'utf8')).toContain('worker stopping');
    expect(existsSync(path.join(logs, `lmsweep-worker-${job}_1.out`))).toBe(true);
  });

  it('launch --slurm-workers 1 queues the sweep and the worker that runs it', async () => {
    const spec = path.join(tmp, 'tiny.yaml');
    writeFileSync(spec, 'name: launched\ndataset: { name: ptb, vocabSize: 200 }\nmodel: { embedding: 8, hidden: 8, layers: 1 }\ntraining: { batchSize: 4, unroll: 5 }\nbudget: { maxSteps: 50, evalTokens: 500 }\nseeds: 2\n');
    const r = await lmsweep(['launch', spec, '--slurm-workers', '1', '--logs', path.join(tmp, 'launched'), '--token', API_TOKEN, '--worker-token', WORKER_TOKEN, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { id: string; trials: number; slurmJob: { id: string; workers: number } };
    expect([got.trials, got.slurmJob.workers]).toEqual([2, 1]);
    expect((await c.store.listSlurmJobs()).map((j) => j.id)).toContain(got.slurmJob.id);
    await until('the launched sweep to finish', async () => (await c.store.getSweep(got.id))?.status !== 'running', 90_000, 250);
    const trials = (await c.store.listTrials({ sweepId: got.id })).items;
    expect(trials.map((t) => t.status)).toEqual(['succeeded', 'succeeded']);
    const w = (await c.store.listWorkers()).find((x) => x.id === trials[0]!.leaseOwner)!;
    expect(w.slurmJob).toBe(`${got.slurmJob.id}_0`);
    await until('the array to leave the queue', async () => (await squeue()) === '', 60_000, 500);
  });

  it('a job the coordinator will not record (no API token) is cancelled again: nothing runs that status cannot show', async () => {
    const before = (await c.store.listSlurmJobs()).length;
    // Held, so it cannot run and leave the queue by itself: only the cancel takes it out.
    const sub = await lmsweep(['slurm', 'submit', '--workers', '1', '--logs', path.join(tmp, 'refused'), '--worker-token', WORKER_TOKEN, '--sbatch-arg=--hold'], { LMSWEEP_TOKEN: '' });
    expect(sub.code).toBe(1);
    const job = /did not record job (\d+), so it was cancelled: .*API token/.exec(sub.stderr)?.[1];
    expect(job, sub.stderr).toBeDefined();
    await until('the cancelled job to leave the queue', async () => (await squeue()) === '', 20_000, 200);
    expect((await c.store.listSlurmJobs()).length).toBe(before);
  });
});
