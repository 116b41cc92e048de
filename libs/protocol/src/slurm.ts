// Slurm: the job id a worker started by Slurm reports, and the job array `lmsweep slurm submit`
// records on the coordinator.
import { z } from 'zod';
import { storableText, UNSTORABLE_MESSAGE } from './storable.ts';

/** Slurm's id of one worker's job: "1234_0" for task 0 of array job 1234, "1235" for a plain job. */
export const SLURM_JOB_PATTERN = /^[0-9]{1,12}(_[0-9]{1,7})?$/;
export const SlurmJobId = z.string().regex(SLURM_JOB_PATTERN, 'a Slurm job id: digits, or ARRAYJOB_TASK such as 1234_0');
/** Slurm's id of a submitted job array. */
export const SlurmArrayId = z.string().regex(/^[0-9]{1,12}$/, 'a Slurm job id: digits');

/**
 * The Slurm job of a worker, from the environment Slurm gives its job: "ARRAYJOB_TASK" inside a
 * job array, the job id otherwise, undefined outside Slurm (or when the values are not ids).
 */
export function slurmJobOf(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const array = env.SLURM_ARRAY_JOB_ID;
  const task = env.SLURM_ARRAY_TASK_ID;
  const job = array && task ? `${array}_${task}` : env.SLURM_JOB_ID;
  return job && SLURM_JOB_PATTERN.test(job) ? job : undefined;
}

/** A partition or account name (a comma-separated list for partitions): what sbatch takes, nothing a script line could misread. */
export const SLURM_NAME_PATTERN = /^[A-Za-z0-9_.+-]{1,100}(,[A-Za-z0-9_.+-]{1,100}){0,20}$/;
const slurmName = z.string().regex(SLURM_NAME_PATTERN, 'letters, digits and _.+- (a comma-separated list for partitions)');
/** sbatch --time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS. */
export const SLURM_TIME_PATTERN = /^([0-9]{1,5}-[0-9]{1,2}(:[0-9]{1,2}){0,2}|[0-9]{1,7}(:[0-9]{1,2}){0,2})$/;

/** A job array of workers as `lmsweep slurm submit` asked Slurm for it. */
export const SlurmJobRecord = z.strictObject({
  id: SlurmArrayId,
  workers: z.number().int().min(1).max(100_000),
  partition: slurmName.nullable(),
  account: slurmName.nullable(),
  timeLimit: z.string().regex(SLURM_TIME_PATTERN, 'minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS').nullable(),
  cpusPerWorker: z.number().int().min(1).max(100_000).nullable(),
  gpusPerWorker: z.number().int().min(0).max(1_000).nullable(),
  /** Where the tasks write their logs (on the submitting host's filesystem). */
  logDir: z.string().min(1).max(2000).refine(storableText, UNSTORABLE_MESSAGE),
});
export type SlurmJobRecord = z.infer<typeof SlurmJobRecord>;
