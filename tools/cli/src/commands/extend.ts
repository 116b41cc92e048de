// lmsweep extend SWEEP_ID: more seeds or grid values for a sweep after launch (sweeps.extend).
import os from 'node:os';
import { defineCommand } from '../command.ts';
import { UsageError } from '../options.ts';
import { apiOptions, jsonOption } from './shared.ts';

/** One grid value as typed: a number, true/false, or else a string. */
export function gridValue(raw: string): number | boolean | string {
  const t = raw.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
  if (t === 'true' || t === 'false') return t === 'true';
  return t;
}

/** `PATH=V1,V2` → { PATH: [V1, V2] } (values typed by gridValue). */
export function parseGridOption(raw: string): Record<string, (number | boolean | string)[]> {
  const eq = raw.indexOf('=');
  const path = eq < 0 ? '' : raw.slice(0, eq).trim();
  const values = eq < 0 ? [] : raw.slice(eq + 1).split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (!path || !values.length) throw new UsageError(`--grid must be PATH=V1,V2 (e.g. model.hidden=96,128), got "${raw}"`);
  return Object.fromEntries([[path, values.map(gridValue)]]);
}

function whoAmI(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return `lmsweep@${os.hostname()}`;
  }
}

export const extendCommand = defineCommand({
  name: 'extend',
  summary: 'add seeds, grid values or sampled configurations to a sweep, running or ended (existing trials are kept)',
  description:
    'Adds to a sweep after launch: --seeds K more seeds for every configuration (or only those named by --config, as `lmsweep leaderboard --json` gives their configKey), ' +
    '--grid PATH=V1,V2 more values for a grid parameter (its new points run for the sweep\'s seeds), ' +
    '--trials N more configurations for a sampled sweep (its sampler chooses them as slots free). The sweep\'s spec is updated to read as what was run, the extension is recorded on the sweep, and a sweep that had ended runs again.',
  args: [{ name: 'SWEEP_ID', description: 'the sweep (lmsweep sweeps lists them)', required: true }],
  options: {
    ...apiOptions,
    seeds: { type: 'integer', value: 'K', min: 1, max: 1000, description: 'this many more seeds per configuration' },
    config: { type: 'string', value: 'KEY[,KEY]', description: 'only these configurations get the seeds (their configKeys)' },
    grid: { type: 'string', value: 'PATH=V1,V2', description: 'more values for a grid parameter (e.g. model.hidden=96,128)' },
    trials: { type: 'integer', value: 'N', min: 1, description: 'more configurations of a sampled sweep' },
    json: { ...jsonOption, description: 'print the answer as one JSON object (id, trials, summary, reopened)' },
  },
  async run({ values, positionals, out, err }) {
    const grid = values.grid === undefined ? undefined : parseGridOption(values.grid);
    const configs = values.config?.split(',').map((k) => k.trim()).filter(Boolean);
    if (values.config !== undefined && !configs?.length) throw new UsageError('--config must name at least one configKey');
    if (values.seeds === undefined && grid === undefined && values.trials === undefined) throw new UsageError('nothing to add: give --seeds K, --grid PATH=V1,V2 or --trials N');
    const { apiClient } = await import('../client.ts');
    const r = await apiClient(values.coordinator, values.token).sweeps.extend.mutate({
      id: positionals[0]!,
      by: whoAmI(),
      ...(values.seeds !== undefined ? { seeds: values.seeds } : {}),
      ...(configs ? { configs } : {}),
      ...(grid ? { grid } : {}),
      ...(values.trials !== undefined ? { trials: values.trials } : {}),
    });
    if (values.json) out(JSON.stringify(r));
    else {
      out(`${r.id}: added ${r.summary}`);
      if (r.reopened) err(`sweep ${r.id} had ended; it runs again`);
    }
    return 0;
  },
});
