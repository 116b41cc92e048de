// Writing a sweep's report into a directory: report.md with its SVG figures beside it, or one
// report.html. Used by `lmsweep report` and at the end of the demo.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fetchReportInput } from './fetch.ts';
import { buildReport } from './model.ts';
import { reportBlocks, toHtml, toMarkdown } from './render.ts';

export type ReportFormat = 'md' | 'html';

export interface WrittenReport {
  configurations: number;
  comparisons: number;
  /** The files written, the report itself first. */
  files: string[];
}

export async function writeReport(o: { url: string; token?: string | undefined; sweepId: string; format: ReportFormat; dir: string; progress?: (done: number, total: number) => void }): Promise<WrittenReport> {
  const report = buildReport(await fetchReportInput(o.url, o.token, o.sweepId, o.progress ?? (() => {})));
  mkdirSync(o.dir, { recursive: true });
  const blocks = reportBlocks(report, { command: `lmsweep report ${o.sweepId} --format ${o.format}`, generatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
  const files: string[] = [];
  if (o.format === 'html') {
    files.push(path.join(o.dir, 'report.html'));
    writeFileSync(files[0]!, toHtml(blocks, `Report: ${report.sweep.name}`));
  } else {
    const { markdown, files: figures } = toMarkdown(blocks);
    files.push(path.join(o.dir, 'report.md'));
    writeFileSync(files[0]!, markdown);
    for (const f of figures) {
      files.push(path.join(o.dir, f.name));
      writeFileSync(path.join(o.dir, f.name), f.text);
    }
  }
  return { configurations: report.configurations.length, comparisons: report.comparisons.length, files };
}
