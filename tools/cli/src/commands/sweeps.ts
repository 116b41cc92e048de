// lmsweep sweeps: the newest sweeps and their trial counts.
import { defineCommand } from '../command.ts';
import { table } from '../format.ts';
import { apiOptions, jsonOption } from './shared.ts';

export const sweepsCommand = defineCommand({
  name: 'sweeps',
  summary: 'list sweeps, newest first, with their trial counts',
  options: { ...apiOptions, json: jsonOption, limit: { type: 'integer', value: 'N', min: 1, max: 500, default: 50, description: 'how many' } },
  async run({ values, out }) {
    const { apiClient } = await import('../client.ts');
    const sweeps = await apiClient(values.coordinator, values.token).sweeps.list.query({ limit: values.limit, offset: 0 });
    const items = (Array.isArray(sweeps) ? sweeps : (sweeps as { items: unknown[] }).items) as { id: string; name: string; status: string; counts?: Record<string, number>; createdAt: string | Date }[];
    if (values.json) {
      for (const s of items) out(JSON.stringify(s));
      return 0;
    }
    out(
      table(
        ['id', 'name', 'status', 'trials', 'created'],
        items.map((s) => [
          s.id,
          s.name,
          s.status,
          s.counts ? Object.entries(s.counts).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(', ') : '',
          new Date(s.createdAt).toISOString().replace('T', ' ').slice(0, 19),
        ]),
      ),
    );
    return 0;
  },
});
