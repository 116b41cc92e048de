// Slurm job arrays of workers (`lmsweep slurm submit`): recorded when submitted, listed with the
// workers that reported one of their tasks, marked when cancelled.
import type { SlurmJobRecord } from '@lmsweep/protocol';
import type { SlurmJob } from './generated/client.ts';
import type { StoreContext } from './store-context.ts';

/** Records a submitted job array (again: its fields are replaced, e.g. a retried record). */
export async function recordSlurmJob(ctx: StoreContext, job: SlurmJobRecord): Promise<SlurmJob> {
  const { id, ...fields } = job;
  return ctx.prisma.slurmJob.upsert({ where: { id }, create: { id, ...fields, submittedAt: ctx.now() }, update: fields });
}

/** The recorded job arrays, newest first. */
export async function listSlurmJobs(ctx: StoreContext, limit: number): Promise<SlurmJob[]> {
  return ctx.prisma.slurmJob.findMany({ orderBy: [{ submittedAt: 'desc' }, { id: 'desc' }], take: limit });
}

/** Marks job arrays cancelled (now, unless they were already); the ids recorded among them. */
export async function slurmJobsCancelled(ctx: StoreContext, ids: string[]): Promise<string[]> {
  await ctx.prisma.slurmJob.updateMany({ where: { id: { in: ids }, cancelledAt: null }, data: { cancelledAt: ctx.now() } });
  return (await ctx.prisma.slurmJob.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((j) => j.id);
}
