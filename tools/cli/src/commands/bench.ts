// lmsweep bench NAME: a benchmark with its reference beside it (one subcommand per benchmark).
import { benchmarks } from '../bench.ts';
import { defineCommand } from '../command.ts';

export const benchCommand = defineCommand({
  name: 'bench',
  summary: 'benchmarks, each with its reference run beside it (compress, dashboard, load, phm, prune-latency, search, train)',
  description: 'Runs one benchmark and prints a table with its reference measured in the same run, as ratios (--json: one object per row).',
  subcommandLabel: 'NAME',
  subcommandNoun: 'benchmark',
  options: {},
  subcommands: benchmarks.map(({ declaration: d, load }) =>
    defineCommand({
      name: d.name,
      summary: d.summary,
      description: d.description,
      options: d.options,
      environment: d.environment,
      async run({ values, argv, out }) {
        const bench = await load();
        await bench({ json: values.json === true, out, args: argv });
        return 0;
      },
    }),
  ),
});
