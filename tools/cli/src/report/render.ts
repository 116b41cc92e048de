// A report written out: first as blocks (headings, paragraphs, tables, figures, code), then as
// Markdown (figures as SVG files beside it) or as one self-contained HTML file (figures inline).
import type { MeanCI, PairedDifference } from '@lmsweep/algorithms';
import { curvesSvg, errorSvg, escapeXml, paretoSvg } from './figures.ts';
import type { Report } from './model.ts';

export type Block =
  | { kind: 'heading'; level: 1 | 2; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'table'; head: string[]; rows: string[][]; align?: ('l' | 'r')[] }
  | { kind: 'figure'; file: string; alt: string; svg: string }
  | { kind: 'code'; lang: string; text: string };

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');
const ci = (m: MeanCI) => (Number.isFinite(m.halfWidth) ? `${f2(m.mean)} ± ${f2(m.halfWidth)}` : f2(m.mean));
const diff = (d: PairedDifference) => (Number.isFinite(d.halfWidth) ? `${d.mean >= 0 ? '+' : ''}${f2(d.mean)} [${f2(d.lo)}, ${f2(d.hi)}]` : `${d.mean >= 0 ? '+' : ''}${f2(d.mean)}`);
const pval = (p: number) => (!Number.isFinite(p) ? '–' : p < 0.001 ? '< 0.001' : p.toFixed(3));
const int = (v: number) => Math.round(v).toLocaleString('en-US');
const when = (d: string | Date | null | undefined) => (d ? new Date(d).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '–');

export interface RenderOptions {
  /** The command that regenerates the report, printed in it. */
  command: string;
  /** When it was generated (ISO text); fixed in tests. */
  generatedAt: string;
}

export function reportBlocks(r: Report, opts: RenderOptions): Block[] {
  const byN = new Map(r.configurations.map((c) => [c.n, c]));
  const name = (n: number) => `${n}. ${byN.get(n)?.label ?? '?'}`;
  const out: Block[] = [
    { kind: 'heading', level: 1, text: `Report: ${r.sweep.name}` },
    { kind: 'text', text: `Sweep ${r.sweep.id}, ${r.sweep.status}; launched ${when(r.sweep.createdAt)}, ended ${when(r.sweep.finishedAt)}. Generated ${opts.generatedAt} by \`${opts.command}\`.` },
  ];
  for (const w of r.warnings) out.push({ kind: 'text', text: `**Warning.** ${w}` });
  out.push({ kind: 'heading', level: 2, text: 'Compute' });
  const statuses = Object.entries(r.compute.byStatus).sort((a, b) => b[1] - a[1]);
  out.push({
    kind: 'table',
    head: ['trials', ...statuses.map(([s]) => s), 'training tokens', 'worker-hours', 'workers', 'backends'],
    rows: [[String(r.compute.trials), ...statuses.map(([, n]) => String(n)), int(r.compute.tokens), r.compute.workerHours.toFixed(2), String(r.compute.workers), r.compute.backends.join(', ') || '–']],
  });

  out.push({ kind: 'heading', level: 2, text: 'Configurations' });
  out.push({ kind: 'text', text: 'Perplexities are means over seeds with their 95% Student-t interval (n seeds); ★ marks the Pareto front on parameters × mean validation perplexity; rate is the baseline\'s parameters over the configuration\'s.' });
  out.push({
    kind: 'table',
    head: ['#', 'configuration', 'parameters', 'rate', 'validation ppl', 'test ppl', 'n'],
    align: ['r', 'l', 'r', 'r', 'r', 'r', 'r'],
    rows: r.configurations.map((c) => [String(c.n), `${c.front ? '★ ' : ''}${c.label}${c.isBaseline && !c.label.endsWith('(baseline)') ? ' (baseline)' : ''}`, int(c.params), c.rate === null ? '–' : `${c.rate.toFixed(2)}×`, ci(c.validPpl), ci(c.testPpl), String(c.validPpl.n)]),
  });
  out.push({ kind: 'figure', file: 'pareto.svg', alt: 'Pareto front: parameters against validation perplexity', svg: paretoSvg(r) });

  if (r.reference) {
    out.push({ kind: 'heading', level: 2, text: 'Beside the published numbers' });
    out.push({ kind: 'text', text: `From ${r.reference.source} (the spec's \`reference:\`), each beside this sweep's configurations of the same method and settings; Δ is ours minus theirs.` });
    const rows: string[][] = [];
    for (const l of r.reference.lines) {
      const theirs = [l.params === null ? '–' : int(l.params), l.validPpl === null ? '–' : f2(l.validPpl), l.testPpl === null ? '–' : f2(l.testPpl)];
      if (!l.ours.length) rows.push([l.label, ...theirs, l.note ?? '(no configuration of this sweep)', '–', '–', '–', '–']);
      for (const n of l.ours) {
        const c = byN.get(n)!;
        const dTest = l.testPpl === null ? '–' : `${c.testPpl.mean - l.testPpl >= 0 ? '+' : ''}${f2(c.testPpl.mean - l.testPpl)}`;
        rows.push([l.label, ...theirs, name(n), int(c.params), ci(c.validPpl), ci(c.testPpl), dTest]);
      }
    }
    out.push({ kind: 'table', head: ['published', 'parameters', 'validation ppl', 'test ppl', 'ours', 'parameters', 'validation ppl', 'test ppl', 'Δ test'], align: ['l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r'], rows });
  }

  if (r.comparisons.length) {
    out.push({ kind: 'heading', level: 2, text: 'Paired comparisons' });
    out.push({
      kind: 'text',
      text: `Δ is the first configuration's perplexity minus the second's, seed by seed over the seeds both have (negative: the first is better), with the 95% interval of the mean difference; p is the paired t-test's, two-sided, Holm-corrected over the ${r.comparisons.length} comparisons of this report (each metric apart). A comparison on one seed has no interval or p.`,
    });
    out.push({
      kind: 'table',
      head: ['configuration', 'against', 'seeds', 'Δ validation ppl', 'p (Holm)', 'Δ test ppl', 'p (Holm)'],
      align: ['l', 'l', 'r', 'r', 'r', 'r', 'r'],
      rows: r.comparisons.map((c) => [name(c.a), `${c.against}: ${name(c.b)}`, String(c.seeds.length), diff(c.valid), pval(c.validPHolm), diff(c.test), pval(c.testPHolm)]),
    });
  }

  if (r.finetune.length) {
    out.push({ kind: 'heading', level: 2, text: 'Fine-tuning: before and after' });
    out.push({ kind: 'text', text: 'Validation perplexity, means over seeds: of the baseline checkpoint as the compression trial measured it again, right after compression (before the first fine-tuning step; the control is not compressed), after the last step, and at the best validation point, which the result keeps.' });
    out.push({
      kind: 'table',
      head: ['configuration', 'lr', 'steps', 'baseline', 'before fine-tuning', 'after the last step', 'best kept', 'best at step'],
      align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
      rows: r.finetune.map((t) => [name(t.n), String(t.lr), String(t.steps), t.baselineValid === null ? '–' : f2(t.baselineValid), f2(t.validBefore), f2(t.validLast), f2(t.validBest), t.bestSteps.join(', ')]),
    });
  }

  if (r.ranks.length) {
    out.push({ kind: 'heading', level: 2, text: 'Ranks chosen' });
    out.push({ kind: 'text', text: 'Per compressed matrix: the rate achieved, the frequency-weighted relative reconstruction error Σ qᵢ‖Aᵢ − Âᵢ‖² / Σ qᵢ‖Aᵢ‖², the same error with every word alike Σ ‖Aᵢ − Âᵢ‖² / Σ ‖Aᵢ‖² (means over seeds), and the rank of each frequency block (most frequent first), of the lowest seed (* another seed chose other ranks).' });
    out.push({
      kind: 'table',
      head: ['configuration', 'matrix', 'shape', 'rate', 'weighted error', 'error, words alike', 'block ranks'],
      align: ['l', 'l', 'r', 'r', 'r', 'r', 'l'],
      rows: r.ranks.map((k) => [name(k.n), k.matrix, k.shape, `${k.rate.toFixed(2)}×`, k.werr.toFixed(4), k.error === null ? '–' : k.error.toFixed(4), `${k.ranks.join(', ')}${k.differ ? ' *' : ''}`]),
    });
    if (r.ranks.some((k) => k.validBefore !== null)) {
      out.push({ kind: 'heading', level: 2, text: 'Error against perplexity' });
      out.push({ kind: 'text', text: 'Each compressed matrix\'s error (weighted by frequency: filled; every word alike: hollow) against the validation perplexity right after compression, before fine-tuning: a lower error that does not give a lower perplexity is weighting the wrong words.' });
      out.push({ kind: 'figure', file: 'error.svg', alt: 'Error against perplexity: reconstruction error per compressed matrix against validation perplexity before fine-tuning', svg: errorSvg(r) });
    }
  }

  const refined = r.ranks.filter((k) => k.refinement !== null);
  if (refined.length) {
    out.push({ kind: 'heading', level: 2, text: 'GroupReduce: refinement' });
    out.push({ kind: 'text', text: 'Each refinement iteration moves every word to the block whose basis reconstructs it best, then solves the ranks and fits the blocks again; the iterate with the least weighted error is kept (0: the dynamic-rank start, so a refinement that moves no word equals dynamic rank). Of the lowest seed.' });
    out.push({
      kind: 'table',
      head: ['configuration', 'matrix', 'words moved per iteration', 'weighted error per iterate', 'kept'],
      align: ['l', 'l', 'l', 'l', 'r'],
      rows: refined.map((k) => [name(k.n), k.matrix, k.refinement!.moved.join(', ') || '–', k.refinement!.werr.map((e) => e.toFixed(4)).join(' → '), String(k.refinement!.kept)]),
    });
  }

  if (r.stopped.length) {
    out.push({ kind: 'heading', level: 2, text: 'Stopped early' });
    out.push({ kind: 'text', text: 'Configurations the pruner stopped (or left paused) before any seed finished: the mean of their last reported validation perplexities, the steps each trial trained, the highest rung judged.' });
    out.push({
      kind: 'table',
      head: ['configuration', 'trials', 'last validation ppl', 'steps', 'rung'],
      align: ['l', 'r', 'r', 'l', 'r'],
      rows: r.stopped.map((s) => [s.label, String(s.trials), s.lastValue === null ? '–' : f2(s.lastValue), s.steps.join(', '), s.rung === null ? '–' : String(s.rung)]),
    });
  }

  if (r.curves.length) {
    out.push({ kind: 'heading', level: 2, text: 'Validation curves' });
    out.push({ kind: 'figure', file: 'curves.svg', alt: 'Validation perplexity over steps per configuration', svg: curvesSvg(r) });
  }

  out.push({ kind: 'heading', level: 2, text: 'Spec' }, { kind: 'code', lang: 'yaml', text: r.sweep.specText.trimEnd() });
  return out;
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function toMarkdown(blocks: readonly Block[]): { markdown: string; files: { name: string; text: string }[] } {
  const files: { name: string; text: string }[] = [];
  const parts = blocks.map((b) => {
    switch (b.kind) {
      case 'heading':
        return `${'#'.repeat(b.level)} ${b.text}`;
      case 'text':
        return b.text;
      case 'table': {
        const align = b.head.map((_, i) => (b.align?.[i] === 'r' ? '---:' : '---'));
        return [b.head, align, ...b.rows].map((r) => `| ${r.map(mdCell).join(' | ')} |`).join('\n');
      }
      case 'figure':
        files.push({ name: b.file, text: b.svg });
        return `![${b.alt}](${b.file})`;
      case 'code': {
        const fence = b.text.includes('```') ? '~~~~' : '```';
        return `${fence}${b.lang}\n${b.text}\n${fence}`;
      }
    }
  });
  return { markdown: `${parts.join('\n\n')}\n`, files };
}

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#0f172a;line-height:1.45}
table{border-collapse:collapse;margin:.75rem 0;font-size:.9rem}th,td{border-bottom:1px solid #e2e8f0;padding:.3rem .6rem;text-align:left;vertical-align:top}
td.r,th.r{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}th{background:#f8fafc}figure{margin:1rem 0}svg{max-width:100%;height:auto}
pre{background:#f8fafc;border:1px solid #e2e8f0;padding:.75rem;overflow:auto;font-size:.85rem}code{font-family:ui-monospace,Menlo,Consolas,monospace}
@media (prefers-color-scheme: dark){body{background:#0b1120;color:#e2e8f0}th{background:#1e293b}th,td{border-color:#334155}pre{background:#1e293b;border-color:#334155}figure svg{background:#fff;border-radius:4px}}`;

export function toHtml(blocks: readonly Block[], title: string): string {
  const inline = (s: string) => escapeXml(s).replace(/`([^`]+)`/g, '<code>$1</code>').replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  const body = blocks.map((b) => {
    switch (b.kind) {
      case 'heading':
        return `<h${b.level}>${escapeXml(b.text)}</h${b.level}>`;
      case 'text':
        return `<p>${inline(b.text)}</p>`;
      case 'table': {
        const cls = (i: number) => (b.align?.[i] === 'r' ? ' class="r"' : '');
        return `<table><thead><tr>${b.head.map((h, i) => `<th${cls(i)}>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${b.rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${escapeXml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
      }
      case 'figure':
        return `<figure>${b.svg}<figcaption>${escapeXml(b.alt)}</figcaption></figure>`;
      case 'code':
        return `<pre><code>${escapeXml(b.text)}</code></pre>`;
    }
  });
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeXml(title)}</title><style>${STYLE}</style></head><body>\n${body.join('\n')}\n</body></html>\n`;
}

