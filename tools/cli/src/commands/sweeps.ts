// lmsweep sweeps: the newest sweeps and their trial counts (paused and pruned among them).
import { defineCommand } from '../command.ts';
import { table } from '../format.ts';
import { apiOptions, jsonOption } from './shared.ts';

/** The statuses in the order a sweep's trials go through them. */
const ORDER = ['queued', 'running', 'paused', 'succeeded', 'pruned', 'failed', 'cancelled'];

/** "running 2, paused 1, succeeded 3, pruned 4 of 10": the statuses it has, then the total. */
export function countsCell(counts: Record<string, number> | undefined): string {
  if (!counts) return '';
  const known = [...ORDER, ...Object.keys(counts).filter((k) => k !== 'total' && !ORDER.includes(k))];
  const parts = known.filter((k) => counts[k]).map((k) => `${k} ${counts[k]}`);
  return `${parts.join(', ') || 'none'}${counts.total === undefined ? '' : ` of ${counts.total}`}`;
}

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
          countsCell(s.counts),
          new Date(s.createdAt).toISOString().replace('T', ' ').slice(0, 19),
        ]),
      ),
    );
    return 0;
  },
});
