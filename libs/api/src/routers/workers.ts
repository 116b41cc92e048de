import type { WorkerInfo } from '@lmsweep/db';
import { publicProcedure, router } from '../init.ts';

/**
 * What anyone may see of a worker: named field by field, so a column added to the table (like
 * the hash of its secret key) stays private unless it is added here.
 */
export function publicWorker(w: WorkerInfo) {
  return {
    id: w.id,
    name: w.name,
    host: w.host,
    backend: w.backend,
    device: w.device,
    version: w.version,
    connected: w.connected,
    stale: w.stale,
    connectedAt: w.connectedAt,
    lastHeartbeat: w.lastHeartbeat,
    currentTrialId: w.currentTrialId,
    progress: w.progress,
    currentTrial: w.currentTrial,
    slurmJob: w.slurmJob,
  };
}

export const workersRouter = router({
  list: publicProcedure.query(async ({ ctx }) => (await ctx.store.listWorkers()).map(publicWorker)),
});
