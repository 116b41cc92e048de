// The sbatch script of a job array of lmsweep workers: one worker per array task, each bound to
// the CPUs (and GPUs) Slurm gave its task, claiming trials until the coordinator has none left.
// A pure function of the options, so `--dry-run` prints exactly what would be submitted.

export interface WorkerArray {
  workers: number;
  /** Slurm's --cpus-per-task; the worker's --threads (default: Slurm's one CPU, one thread). */
  cpusPerWorker?: number | undefined;
  /** --gres=gpu:G; CUDA_VISIBLE_DEVICES then names the task's GPUs, which the worker's auto backend takes. */
  gpusPerWorker?: number | undefined;
  partition?: string | undefined;
  account?: string | undefined;
  time?: string | undefined;
  /** More #SBATCH lines, as given (`--constraint=a100`). */
  sbatchArgs: readonly string[];
  /** Absolute: where each task writes its log (Slurm does not create it). */
  logDir: string;
  coordinatorUrl: string;
  /** How a compute node starts lmsweep: node and the CLI's script, as paths it can see. */
  lmsweep: readonly string[];
  jobName: string;
  /** When the script was written, for its header. */
  now: Date;
}

/** A word the shell reads back as itself. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Seconds before the time limit at which Slurm asks the worker to stop (SIGTERM): it releases its trial and leaves. */
export const STOP_BEFORE_LIMIT_S = 120;

/** sbatch options the script sets itself, or that would take the worker token away (--export). */
const OWN_OPTIONS = ['--job-name', '-J', '--array', '-a', '--output', '-o', '--error', '-e', '--export', '--ntasks', '-n'];

/** The script, or a RangeError naming the option that cannot go into one. */
export function sbatchScript(a: WorkerArray): string {
  for (const [field, v] of [
    ['--logs', a.logDir],
    ['--job-name', a.jobName],
    ...a.sbatchArgs.map((x) => ['--sbatch-arg', x] as const),
  ] as const) {
    if (/[\n\r"\\]/.test(v)) throw new RangeError(`${field}: no newlines, quotes or backslashes in a #SBATCH line, got ${JSON.stringify(v)}`);
  }
  for (const x of a.sbatchArgs) {
    if (!x.startsWith('-')) throw new RangeError(`--sbatch-arg: an sbatch option such as --constraint=a100, got ${JSON.stringify(x)}`);
    const own = OWN_OPTIONS.find((o) => x === o || x.startsWith(`${o}=`) || (o.length === 2 && x.startsWith(o)));
    if (own) throw new RangeError(`--sbatch-arg: ${own} is the script's own (the record, the logs and the worker token depend on it), got ${JSON.stringify(x)}`);
  }
  if (!a.logDir.startsWith('/')) throw new RangeError(`--logs: an absolute path, got ${JSON.stringify(a.logDir)}`);
  if (a.logDir.includes('%')) throw new RangeError(`--logs: no % (Slurm expands it in --output), got ${JSON.stringify(a.logDir)}`);
  const threads = a.cpusPerWorker ?? 1;
  const sbatch = [
    `--job-name=${a.jobName}`,
    `--array=0-${a.workers - 1}`,
    '--ntasks=1',
    ...(a.cpusPerWorker !== undefined ? [`--cpus-per-task=${a.cpusPerWorker}`] : []),
    ...(a.gpusPerWorker ? [`--gres=gpu:${a.gpusPerWorker}`] : []),
    ...(a.partition ? [`--partition=${a.partition}`] : []),
    ...(a.account ? [`--account=${a.account}`] : []),
    ...(a.time ? [`--time=${a.time}`, `--signal=B:TERM@${STOP_BEFORE_LIMIT_S}`] : []),
    `--output="${a.logDir}/%x-%A_%a.out"`,
    ...a.sbatchArgs,
  ];
  const worker = [
    ...a.lmsweep.map(shellQuote),
    'worker',
    '--coordinator',
    shellQuote(a.coordinatorUrl),
    '--exit-when-idle',
    '--threads',
    String(threads),
    '--name',
    '"slurm-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"',
    '--quiet',
    '--log',
    'json',
  ];
  return [
    '#!/bin/bash',
    `# lmsweep workers as a Slurm job array, written by \`lmsweep slurm submit\` at ${a.now.toISOString()}.`,
    '# Each array task runs one worker, which claims trials until the coordinator has none left. The',
    "# worker token comes from the submitting shell's environment (LMSWEEP_TOKEN), never from this file.",
    ...sbatch.map((x) => `#SBATCH ${x}`),
    '',
    '# exec: the worker is the job, so the SIGTERM Slurm sends when it cancels, preempts or nears the',
    '# time limit reaches it, and it gives its trial back to the queue before it exits.',
    `exec ${worker.join(' ')}`,
    '',
  ].join('\n');
}
