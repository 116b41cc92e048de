// Submitting a job array of workers: the options `lmsweep slurm submit` and `lmsweep launch
// --slurm-workers` share, the script they make, and the submission (sbatch, then the record on the
// coordinator, cancelled again if the coordinator does not take it).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SLURM_NAME_PATTERN, SLURM_TIME_PATTERN, type SlurmJobRecord } from '@lmsweep/protocol';
import { UsageError } from '../options.ts';
import { sbatchScript, STOP_BEFORE_LIMIT_S } from './script.ts';

const BIN = fileURLToPath(new URL('../../bin/lmsweep.js', import.meta.url));
export const JOB_NAME = 'lmsweep-worker';

/** How each task of the array runs (the number of tasks is the command's own option). */
export const WORKER_ARRAY_OPTIONS = {
  'cpus-per-worker': { type: 'integer', value: 'C', min: 1, description: "CPUs of each task (--cpus-per-task), the worker's threads", defaultText: "Slurm's, one thread" },
  'gpus-per-worker': { type: 'integer', value: 'G', min: 0, description: 'GPUs of each task (--gres=gpu:G); the worker trains on them where TensorFlow.js for CUDA loads' },
  partition: { type: 'string', value: 'P', pattern: SLURM_NAME_PATTERN, expected: 'a partition name (or a comma-separated list)', description: 'the partition (--partition)' },
  time: { type: 'string', value: 'HH:MM:SS', pattern: SLURM_TIME_PATTERN, expected: 'minutes, MM:SS, HH:MM:SS or D-HH:MM:SS', description: `each task's time limit (--time); the worker is asked to stop ${STOP_BEFORE_LIMIT_S} s before it` },
  account: { type: 'string', value: 'A', pattern: SLURM_NAME_PATTERN, expected: 'an account name', description: 'the account charged (--account)' },
  'sbatch-arg': { type: 'list', value: 'ARG', pattern: /^-/, expected: 'an sbatch option such as --constraint=a100', description: 'one more sbatch option, as an #SBATCH line: --sbatch-arg=--constraint=a100' },
  logs: { type: 'string', value: 'DIR', default: 'lmsweep-slurm', description: "where each task's log goes (DIR/lmsweep-worker-JOB_TASK.out); created if missing" },
  'worker-token': { type: 'string', value: 'T', env: 'LMSWEEP_WORKER_TOKEN', description: "the coordinator's worker token, given to the workers through the job's environment" },
} as const;

export interface WorkerArrayValues {
  workers: number;
  coordinator: string;
  token: string | undefined;
  'cpus-per-worker': number | undefined;
  'gpus-per-worker': number | undefined;
  partition: string | undefined;
  time: string | undefined;
  account: string | undefined;
  'sbatch-arg': string[];
  logs: string;
  'worker-token': string | undefined;
}

/** The sbatch script for these values; a value that cannot go into one is a UsageError naming its flag. */
export function workerArrayScript(v: WorkerArrayValues): string {
  try {
    return sbatchScript({
      workers: v.workers,
      cpusPerWorker: v['cpus-per-worker'],
      gpusPerWorker: v['gpus-per-worker'],
      partition: v.partition,
      account: v.account,
      time: v.time,
      sbatchArgs: v['sbatch-arg'],
      logDir: path.resolve(v.logs),
      coordinatorUrl: v.coordinator,
      lmsweep: [process.execPath, BIN],
      jobName: JOB_NAME,
      now: new Date(),
    });
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  }
}

/** Secrets of this shell that are not the workers' to have. */
const NOT_FOR_JOBS = ['LMSWEEP_TOKEN', 'LMSWEEP_API_TOKEN', 'LMSWEEP_WORKER_TOKEN', 'DATABASE_URL'];

/**
 * The environment sbatch passes on to the job (it exports all of it, and Slurm keeps it with the
 * job): this shell's, less its lmsweep secrets, plus the worker token as LMSWEEP_TOKEN, which
 * `lmsweep worker` reads.
 */
export function jobEnvironment(env: NodeJS.ProcessEnv, workerToken: string | undefined): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const k of NOT_FOR_JOBS) delete out[k];
  if (workerToken) out.LMSWEEP_TOKEN = workerToken;
  return out;
}

/** Submits the array and records it on the coordinator; what was recorded. */
export async function submitWorkerArray(v: WorkerArrayValues, err: (s: string) => void): Promise<SlurmJobRecord> {
  const script = workerArrayScript(v);
  if (/^https?:\/\/(127\.|localhost[:/]|\[::1\])/.test(v.coordinator)) {
    err(`note: --coordinator ${v.coordinator} is this host's own address: workers on other nodes cannot reach it`);
  }
  const { apiClient, describeApiError } = await import('../client.ts');
  const { sbatch, scancel } = await import('./cluster.ts');
  const api = apiClient(v.coordinator, v.token);
  await api.health.query(); // reachable before anything is submitted
  const logDir = path.resolve(v.logs);
  mkdirSync(logDir, { recursive: true });
  const id = await sbatch(script, jobEnvironment(process.env, v['worker-token']));
  const record: SlurmJobRecord = {
    id,
    workers: v.workers,
    partition: v.partition ?? null,
    account: v.account ?? null,
    timeLimit: v.time ?? null,
    cpusPerWorker: v['cpus-per-worker'] ?? null,
    gpusPerWorker: v['gpus-per-worker'] ?? null,
    logDir,
  };
  try {
    await api.slurm.record.mutate(record);
  } catch (e) {
    // Nothing half-done: a job the coordinator does not know of is cancelled again.
    const why = describeApiError(e);
    const cancelled = await scancel(id).then(
      () => null,
      (c: unknown) => (c as Error).message,
    );
    if (cancelled === null) throw new Error(`the coordinator did not record job ${id}, so it was cancelled: ${why}`);
    throw new Error(`the coordinator did not record job ${id} (${why}), and cancelling it failed (${cancelled}): run \`scancel ${id}\``);
  }
  return record;
}

/** What a person reads once the array is submitted. */
export function submittedText(r: SlurmJobRecord): string {
  return `submitted job ${r.id}: ${r.workers} worker${r.workers === 1 ? '' : 's'} (tasks ${r.id}_0…${r.id}_${r.workers - 1}), logs in ${r.logDir}\n\`lmsweep slurm status\` shows them`;
}
