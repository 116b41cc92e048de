// lmsweep slurm submit|status|cancel: workers as a Slurm job array, recorded on the coordinator.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SLURM_JOB_PATTERN, SLURM_NAME_PATTERN, SLURM_TIME_PATTERN, type SlurmJobRecord } from '@lmsweep/protocol';
import { defineCommand } from '../command.ts';
import { table } from '../format.ts';
import { UsageError } from '../options.ts';
import { sbatchScript, STOP_BEFORE_LIMIT_S } from '../slurm/script.ts';
import { apiOptions, jsonOption } from './shared.ts';

const BIN = fileURLToPath(new URL('../../bin/lmsweep.js', import.meta.url));
const JOB_NAME = 'lmsweep-worker';

const submitCommand = defineCommand({
  name: 'submit',
  summary: 'submit a job array of workers (one per task) that run until the coordinator has nothing left',
  description:
    'Writes an sbatch script of `lmsweep worker --exit-when-idle`, one worker per array task with the CPUs (and GPUs) Slurm gives the task, ' +
    'submits it and records the job on the coordinator (`lmsweep slurm status` shows it). The workers start lmsweep from the paths it has here, ' +
    'so run this from a checkout the compute nodes see (a shared filesystem), with a --coordinator address they can reach. ' +
    'The worker token travels in the job\'s environment (--worker-token or $LMSWEEP_WORKER_TOKEN), never in the script. ' +
    'A task that Slurm cancels, preempts or stops at its time limit gets SIGTERM and gives its trial back.',
  options: {
    ...apiOptions,
    workers: { type: 'integer', value: 'N', min: 1, max: 10_000, required: true, description: 'workers: the array tasks' },
    'cpus-per-worker': { type: 'integer', value: 'C', min: 1, description: "CPUs of each task (--cpus-per-task), the worker's threads", defaultText: "Slurm's, one thread" },
    'gpus-per-worker': { type: 'integer', value: 'G', min: 0, description: 'GPUs of each task (--gres=gpu:G); the worker trains on them where TensorFlow.js for CUDA loads' },
    partition: { type: 'string', value: 'P', pattern: SLURM_NAME_PATTERN, expected: 'a partition name (or a comma-separated list)', description: 'the partition (--partition)' },
    time: { type: 'string', value: 'HH:MM:SS', pattern: SLURM_TIME_PATTERN, expected: 'minutes, MM:SS, HH:MM:SS or D-HH:MM:SS', description: `each task's time limit (--time); the worker is asked to stop ${STOP_BEFORE_LIMIT_S} s before it` },
    account: { type: 'string', value: 'A', pattern: SLURM_NAME_PATTERN, expected: 'an account name', description: 'the account charged (--account)' },
    'sbatch-arg': { type: 'list', value: 'ARG', pattern: /^-/, expected: 'an sbatch option such as --constraint=a100', description: 'one more sbatch option, as an #SBATCH line: --sbatch-arg=--constraint=a100' },
    logs: { type: 'string', value: 'DIR', default: 'lmsweep-slurm', description: "where each task's log goes (DIR/lmsweep-worker-JOB_TASK.out); created if missing" },
    'worker-token': { type: 'string', value: 'T', env: 'LMSWEEP_WORKER_TOKEN', description: "the coordinator's worker token, given to the workers through the job's environment" },
    'dry-run': { type: 'boolean', description: 'print the script, submit nothing' },
    json: jsonOption,
  },
  async run({ values, out, err }) {
    const logDir = path.resolve(values.logs);
    let script: string;
    try {
      script = sbatchScript({
        workers: values.workers,
        cpusPerWorker: values['cpus-per-worker'],
        gpusPerWorker: values['gpus-per-worker'],
        partition: values.partition,
        account: values.account,
        time: values.time,
        sbatchArgs: values['sbatch-arg'],
        logDir,
        coordinatorUrl: values.coordinator,
        lmsweep: [process.execPath, BIN],
        jobName: JOB_NAME,
        now: new Date(),
      });
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(e.message);
      throw e;
    }
    if (values['dry-run']) {
      out(script);
      return 0;
    }
    if (/^https?:\/\/(127\.|localhost[:/]|\[::1\])/.test(values.coordinator)) {
      err(`note: --coordinator ${values.coordinator} is this host's own address: workers on other nodes cannot reach it`);
    }
    const { apiClient, describeApiError } = await import('../client.ts');
    const { sbatch, scancel } = await import('../slurm/cluster.ts');
    const api = apiClient(values.coordinator, values.token);
    await api.health.query(); // reachable before anything is submitted
    mkdirSync(logDir, { recursive: true });
    // The workers read their token from LMSWEEP_TOKEN: set it to the worker token, never the API token this shell may hold there.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.LMSWEEP_TOKEN;
    if (values['worker-token']) env.LMSWEEP_TOKEN = values['worker-token'];
    const id = await sbatch(script, env);
    const record: SlurmJobRecord = {
      id,
      workers: values.workers,
      partition: values.partition ?? null,
      account: values.account ?? null,
      timeLimit: values.time ?? null,
      cpusPerWorker: values['cpus-per-worker'] ?? null,
      gpusPerWorker: values['gpus-per-worker'] ?? null,
      logDir,
    };
    try {
      await api.slurm.record.mutate(record);
    } catch (e) {
      // Nothing half-done: a job the coordinator does not know of is cancelled again.
      await scancel(id).catch(() => undefined);
      throw new Error(`the coordinator did not record job ${id}, so it was cancelled: ${describeApiError(e)}`);
    }
    if (values.json) out(JSON.stringify(record));
    else out(`submitted job ${id}: ${values.workers} worker${values.workers === 1 ? '' : 's'} (tasks ${id}_0…${id}_${values.workers - 1}), logs in ${logDir}\n\`lmsweep slurm status\` shows them`);
    return 0;
  },
});

const statusCommand = defineCommand({
  name: 'status',
  summary: "the recorded job arrays, each task's state in Slurm and the worker it started",
  options: { ...apiOptions, limit: { type: 'integer', value: 'N', min: 1, max: 500, default: 10, description: 'the newest N job arrays' }, json: jsonOption },
  async run({ values, out, err }) {
    const { apiClient } = await import('../client.ts');
    const { haveSlurm, squeue } = await import('../slurm/cluster.ts');
    const jobs = await apiClient(values.coordinator, values.token).slurm.list.query({ limit: values.limit });
    const slurm = await haveSlurm();
    const queued = new Map((slurm ? await squeue() : []).map((t) => [t.id, t]));
    const rows = jobs.flatMap((j) =>
      Array.from({ length: j.workers }, (_, task) => {
        const q = queued.get(`${j.id}_${task}`);
        const w = j.workerRows.find((x) => x.task === task);
        return {
          job: j.id,
          task,
          state: q?.state ?? (!slurm ? 'unknown' : j.cancelledAt ? 'cancelled' : 'ended'),
          where: q?.where ?? '',
          worker: w ? { id: w.id, name: w.name, host: w.host, connected: w.connected, currentTrialId: w.currentTrialId, progress: w.progress } : null,
          logFile: path.join(j.logDir, `${JOB_NAME}-${j.id}_${task}.out`),
        };
      }),
    );
    if (values.json) {
      for (const r of rows) out(JSON.stringify(r));
      return 0;
    }
    if (!slurm) err('note: squeue is not on PATH here, so the states in Slurm are unknown (run this on a host of the cluster)');
    if (!rows.length) {
      out('no job arrays recorded: submit one with `lmsweep slurm submit --workers N`');
      return 0;
    }
    out(
      table(
        ['job', 'state', 'node', 'worker', 'connected', 'trial', 'progress'],
        rows.map((r) => [
          `${r.job}_${r.task}`,
          r.state,
          r.where || '-',
          r.worker?.name ?? '-',
          r.worker ? (r.worker.connected ? 'yes' : 'no') : '-',
          r.worker?.currentTrialId ?? '-',
          typeof r.worker?.progress === 'number' ? `${Math.round(r.worker.progress * 100)}%` : '-',
        ]),
      ),
    );
    return 0;
  },
});

const cancelCommand = defineCommand({
  name: 'cancel',
  summary: 'cancel a job array or one of its tasks: each worker gets SIGTERM and gives its trial back',
  args: [{ name: 'JOB', description: 'a job array (1234) or one task (1234_0), as `lmsweep slurm status` lists them', required: true }],
  options: apiOptions,
  async run({ values, positionals, out }) {
    const job = positionals[0]!;
    if (!SLURM_JOB_PATTERN.test(job)) throw new UsageError(`JOB must be a Slurm job id such as 1234 or 1234_0, got "${job}"`);
    const { apiClient } = await import('../client.ts');
    const { scancel } = await import('../slurm/cluster.ts');
    await scancel(job);
    if (!job.includes('_')) await apiClient(values.coordinator, values.token).slurm.cancelled.mutate({ ids: [job] });
    out(`cancelled ${job}: its workers give their trials back to the queue`);
    return 0;
  },
});

export const slurmCommand = defineCommand({
  name: 'slurm',
  summary: 'workers on a Slurm cluster: submit a job array of them, see their state, cancel them',
  subcommandLabel: 'ACTION',
  options: {},
  subcommands: [submitCommand, statusCommand, cancelCommand],
});
