// lmsweep report SWEEP_ID: a self-contained report of one sweep (Markdown with SVG figures, or
// one HTML file): compute, configurations with intervals, paired comparisons, fine-tuning, ranks,
// trials stopped early, the Pareto plot and the curves, the spec.
import { defineCommand } from '../command.ts';
import { apiOptions } from './shared.ts';

const FORMATS = ['md', 'html'] as const;

export const reportCommand = defineCommand({
  name: 'report',
  summary: 'write a report of one sweep: intervals over seeds, paired comparisons, fine-tuning, ranks, Pareto plot, curves',
  description:
    'Markdown with its figures as SVG files beside it (report.md, pareto.svg, curves.svg), or one HTML file with the figures inline (report.html), in --out. ' +
    'Configurations are means over seeds with 95% intervals; each compressed configuration is paired by seed with its baseline, its dense + fine-tune control and SVD at the same rate (PHM with the low-rank configuration nearest in parameters), with the interval of the difference and a Holm-corrected p. Works on any sweep, finished or not, grid, sampled or pruned.',
  args: [{ name: 'SWEEP_ID', description: 'the sweep (lmsweep sweeps lists them)', required: true }],
  options: {
    ...apiOptions,
    format: { type: 'string', choices: FORMATS, default: 'md', description: 'Markdown with SVG files, or one HTML file' },
    out: { type: 'string', value: 'DIR', defaultText: 'report-SWEEP_ID', description: 'the directory to write into (made if missing)' },
  },
  async run({ values, positionals, out, err }) {
    const id = positionals[0]!;
    const { writeReport } = await import('../report/write.ts');
    const r = await writeReport({ url: values.coordinator, token: values.token, sweepId: id, format: values.format, dir: values.out ?? `report-${id}`, progress: (done, total) => err(`curves ${done}/${total}`) });
    out(`${r.configurations} configurations, ${r.comparisons} paired comparisons; wrote ${r.files.join(', ')}`);
    return 0;
  },
});
