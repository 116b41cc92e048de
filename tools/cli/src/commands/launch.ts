// lmsweep launch SPEC: queues a sweep from a YAML or JSON spec (and, with --slurm-workers, workers for it on Slurm).
import { readFileSync } from 'node:fs';
import { defineCommand } from '../command.ts';
import { UsageError } from '../options.ts';
import { submittedText, submitWorkerArray, WORKER_ARRAY_OPTIONS, workerArrayScript } from '../slurm/submit.ts';
import { apiOptions, jsonOption } from './shared.ts';

export const launchCommand = defineCommand({
  name: 'launch',
  summary: 'queue a sweep from a YAML/JSON spec; prints its id',
  description:
    'Queues a sweep from a YAML or JSON spec file and prints its id. A bad spec is refused, naming the field. ' +
    'With --slurm-workers N it then submits a Slurm job array of N workers for it, as `lmsweep slurm submit` does (the same options).',
  args: [{ name: 'SPEC', description: 'the spec file (examples/smoke.yaml)', required: true }],
  options: {
    ...apiOptions,
    json: { ...jsonOption, description: 'print the created sweep as one JSON object (id, name, trials; slurmJob with --slurm-workers)' },
    'slurm-workers': { type: 'integer', value: 'N', min: 1, max: 10_000, description: 'then submit a Slurm job array of N workers (lmsweep slurm submit)' },
    ...WORKER_ARRAY_OPTIONS,
  },
  async run({ values, positionals, out, err }) {
    const file = positionals[0]!;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`SPEC: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const workers = values['slurm-workers'];
    // A script that cannot be written is refused before the sweep is queued.
    if (workers !== undefined) workerArrayScript({ ...values, workers });
    const { apiClient } = await import('../client.ts');
    const r = await apiClient(values.coordinator, values.token).sweeps.create.mutate({ spec: text });
    if (workers === undefined) {
      out(values.json ? JSON.stringify(r) : r.id);
      if (!values.json) err(`sweep "${r.name}" queued with ${r.trials} trials`);
      return 0;
    }
    if (!values.json) {
      out(r.id);
      err(`sweep "${r.name}" queued with ${r.trials} trials`);
    }
    let job;
    try {
      job = await submitWorkerArray({ ...values, workers }, err);
    } catch (e) {
      const { describeApiError } = await import('../client.ts');
      throw new Error(`sweep ${r.id} is queued, but its workers were not submitted (\`lmsweep slurm submit\` can): ${describeApiError(e)}`);
    }
    if (values.json) out(JSON.stringify({ ...r, slurmJob: job }));
    else err(submittedText(job));
    return 0;
  },
});
