// lmsweep workers: the workers, their backend, device, current trial and last heartbeat.
import { defineCommand } from '../command.ts';
import { table } from '../format.ts';
import { apiOptions, jsonOption } from './shared.ts';

export const workersCommand = defineCommand({
  name: 'workers',
  summary: 'workers: backend, device, Slurm job, current trial, last heartbeat',
  options: { ...apiOptions, json: jsonOption },
  async run({ values, out }) {
    const { apiClient } = await import('../client.ts');
    const workers = await apiClient(values.coordinator, values.token).workers.list.query();
    if (values.json) {
      for (const w of workers) out(JSON.stringify(w));
      return 0;
    }
    // Slurm's column only where Slurm started a worker.
    const slurm = workers.some((w) => w.slurmJob);
    out(
      table(
        ['name', 'host', ...(slurm ? ['slurm job'] : []), 'backend', 'device', 'connected', 'trial', 'progress', 'last heartbeat'],
        workers.map((w) => [
          w.name,
          w.host,
          ...(slurm ? [w.slurmJob ?? '-'] : []),
          w.backend,
          w.device,
          w.connected ? 'yes' : 'no',
          w.currentTrialId ?? '-',
          w.progress === null || w.progress === undefined ? '-' : `${Math.round(w.progress * 100)}%`,
          `${Math.round((Date.now() - new Date(w.lastHeartbeat).getTime()) / 1000)} s ago`,
        ]),
      ),
    );
    return 0;
  },
});
