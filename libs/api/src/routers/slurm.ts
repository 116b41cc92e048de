import { z } from 'zod';
import { SlurmArrayId, SlurmJobRecord } from '@lmsweep/protocol';
import { publicProcedure, router, writeProcedure } from '../init.ts';
import { publicWorker } from './workers.ts';

/** The task of array job `arrayId` that a worker's Slurm job ("1234_0") names, or null. */
export function arrayTask(slurmJob: string | null, arrayId: string): number | null {
  if (!slurmJob?.startsWith(`${arrayId}_`)) return null;
  const task = Number(slurmJob.slice(arrayId.length + 1));
  return Number.isInteger(task) ? task : null;
}

export const slurmRouter = router({
  /** The job arrays `lmsweep slurm submit` recorded, newest first, each with the workers its tasks started (newest connection first). */
  list: publicProcedure.input(z.object({ limit: z.number().int().min(1).max(500).default(50) }).default({ limit: 50 })).query(async ({ ctx, input }) => {
    const [jobs, workers] = await Promise.all([ctx.store.listSlurmJobs(input.limit), ctx.store.listWorkers()]);
    return jobs.map((j) => ({
      ...j,
      workerRows: workers
        .map((w) => ({ task: arrayTask(w.slurmJob, j.id), worker: w }))
        .filter((x): x is { task: number; worker: typeof x.worker } => x.task !== null)
        .sort((a, b) => a.task - b.task || b.worker.connectedAt.getTime() - a.worker.connectedAt.getTime())
        .map((x) => ({ task: x.task, ...publicWorker(x.worker) })),
    }));
  }),
  /** Records a submitted job array (`lmsweep slurm submit` calls it once sbatch answered). */
  record: writeProcedure.input(SlurmJobRecord).mutation(({ ctx, input }) => ctx.store.recordSlurmJob(input)),
  /** Marks job arrays cancelled (`lmsweep slurm cancel`, after scancel); the ids among them that were recorded. */
  cancelled: writeProcedure.input(z.object({ ids: z.array(SlurmArrayId).min(1).max(100) })).mutation(async ({ ctx, input }) => ({ recorded: await ctx.store.slurmJobsCancelled(input.ids) })),
});
