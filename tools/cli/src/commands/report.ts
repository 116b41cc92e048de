// lmsweep report SWEEP_ID: a self-contained report of one sweep (Markdown with SVG figures, or
// one HTML file): compute, configurations with intervals, paired comparisons, fine-tuning, ranks,
// trials stopped early, the Pareto plot and the curves, the spec.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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
    const { fetchReportInput } = await import('../report/fetch.ts');
    const { buildReport } = await import('../report/model.ts');
    const { reportBlocks, toHtml, toMarkdown } = await import('../report/render.ts');
    const input = await fetchReportInput(values.coordinator, values.token, id, (done, total) => err(`curves ${done}/${total}`));
    const report = buildReport(input);
    const dir = values.out ?? `report-${id}`;
    mkdirSync(dir, { recursive: true });
    const blocks = reportBlocks(report, { command: `lmsweep report ${id} --format ${values.format}`, generatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
    const written: string[] = [];
    if (values.format === 'html') {
      const file = path.join(dir, 'report.html');
      writeFileSync(file, toHtml(blocks, `Report: ${report.sweep.name}`));
      written.push(file);
    } else {
      const { markdown, files } = toMarkdown(blocks);
      for (const f of files) {
        writeFileSync(path.join(dir, f.name), f.text);
        written.push(path.join(dir, f.name));
      }
      writeFileSync(path.join(dir, 'report.md'), markdown);
      written.unshift(path.join(dir, 'report.md'));
    }
    out(`${report.configurations.length} configurations, ${report.comparisons.length} paired comparisons; wrote ${written.join(', ')}`);
    return 0;
  },
});
