// lmsweep slurm submit|status|cancel: workers as a Slurm job array, recorded on the coordinator.
import path from 'node:path';
import { SLURM_JOB_PATTERN } from '@lmsweep/protocol';
import { defineCommand } from '../command.ts';
import { table } from '../format.ts';
import { UsageError } from '../options.ts';
import { JOB_NAME, submittedText, submitWorkerArray, WORKER_ARRAY_OPTIONS, workerArrayScript } from '../slurm/submit.ts';
import { apiOptions, jsonOption } from './shared.ts';

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
    ...WORKER_ARRAY_OPTIONS,
    'dry-run': { type: 'boolean', description: 'print the script, submit nothing' },
    json: jsonOption,
  },
  async run({ values, out, err }) {
    if (values['dry-run']) {
      out(workerArrayScript(values));
      return 0;
    }
    const record = await submitWorkerArray(values, err);
    out(values.json ? JSON.stringify(record) : submittedText(record));
    return 0;
  },
});

const statusCommand = defineCommand({
  name: 'status',
  summary: "the recorded job arrays, each task's state in Slurm and the worker it started",
  options: { ...apiOptions, limit: { type: 'integer', value: 'N', min: 1, max: 500, default: 10, description: 'the newest N job arrays' }, json: jsonOption },
  async run({ values, out, err }) {
    const { apiClient } = await import('../client.ts');
    const { SlurmError, squeue } = await import('../slurm/cluster.ts');
    const jobs = await apiClient(values.coordinator, values.token).slurm.list.query({ limit: values.limit });
    // squeue once; not on PATH (not a host of the cluster): the states are unknown
    const tasks = await squeue().catch((e: unknown) => {
      if (e instanceof SlurmError && e.notFound) return undefined;
      throw e;
    });
    const slurm = tasks !== undefined;
    const queued = new Map((tasks ?? []).map((t) => [t.id, t]));
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
