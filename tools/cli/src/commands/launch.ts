// lmsweep launch SPEC: queues a sweep from a YAML or JSON spec.
import { readFileSync } from 'node:fs';
import { defineCommand } from '../command.ts';
import { UsageError } from '../options.ts';
import { apiOptions, jsonOption } from './shared.ts';

export const launchCommand = defineCommand({
  name: 'launch',
  summary: 'queue a sweep from a YAML/JSON spec; prints its id',
  description: 'Queues a sweep from a YAML or JSON spec file and prints its id. A bad spec is refused, naming the field.',
  args: [{ name: 'SPEC', description: 'the spec file (examples/smoke.yaml)', required: true }],
  options: { ...apiOptions, json: { ...jsonOption, description: 'print the created sweep as one JSON object (id, name, trials)' } },
  async run({ values, positionals, out, err }) {
    const file = positionals[0]!;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`SPEC: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const { apiClient } = await import('../client.ts');
    const r = await apiClient(values.coordinator, values.token).sweeps.create.mutate({ spec: text });
    out(values.json ? JSON.stringify(r) : r.id);
    if (!values.json) err(`sweep "${r.name}" queued with ${r.trials} trials`);
    return 0;
  },
});
