// lmsweep cancel SWEEP_ID: cancels a sweep's queued and running trials.
import { defineCommand } from '../command.ts';
import { apiOptions } from './shared.ts';

export const cancelCommand = defineCommand({
  name: 'cancel',
  summary: "cancel a sweep's queued and running trials",
  args: [{ name: 'SWEEP_ID', description: 'the sweep (lmsweep sweeps lists them)', required: true }],
  options: apiOptions,
  async run({ values, positionals, out }) {
    const { apiClient } = await import('../client.ts');
    const r = await apiClient(values.coordinator, values.token).sweeps.cancel.mutate({ id: positionals[0]! });
    out(`cancelled ${r.cancelled} trials (${r.running} were running)`);
    return 0;
  },
});
