// The report's figures as standalone SVG text: the Pareto plot (parameters, log scale, against
// validation perplexity with 95% intervals, the front joined, each point numbered as in the
// configurations table) and the validation curves (trained from scratch, and fine-tuned from the
// baseline's checkpoint, side by side), and each compressed matrix's reconstruction error against
// the perplexity right after compression. No script, no external font or style: a Markdown viewer
// shows them as images, the HTML report inlines them.
import { methodLabel } from '@lmsweep/protocol/methods';
import type { Report } from './model.ts';

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f', '#854d0e', '#475569'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One colour per method, in the order they first appear. */
export function methodColors(methods: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of methods) if (!out.has(m)) out.set(m, PALETTE[out.size % PALETTE.length]!);
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1e6 ? `${Number((v / 1e6).toPrecision(3))}M` : Math.abs(v) >= 1e3 ? `${Number((v / 1e3).toPrecision(3))}k` : String(Number(v.toPrecision(3))));

/** Round ticks over [lo, hi]: about `count`, at 1, 2 or 5 × 10ᵏ. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Ticks of a log axis over [lo, hi]: 1, 2 and 5 × 10ᵏ inside it, only the powers of ten when those are many, round linear ticks when fewer than two are inside. */
export function logTicks(lo: number, hi: number): number[] {
  const all: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) for (const m of [1, 2, 5]) all.push(m * 10 ** k);
  const inside = all.filter((v) => v >= lo && v <= hi);
  if (inside.length > 8) return inside.filter((v) => Number.isInteger(Math.log10(v)) || Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  return inside.length >= 2 ? inside : niceTicks(lo, hi, 4).filter((v) => v > 0);
}

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string[];
}

function frame(left: number, top: number, w: number, h: number, xs: { lo: number; hi: number; log: boolean; label: string }, ys: { lo: number; hi: number; label: string }): Frame {
  const x = (v: number) => left + (xs.log ? (Math.log(v) - Math.log(xs.lo)) / (Math.log(xs.hi) - Math.log(xs.lo)) : (v - xs.lo) / (xs.hi - xs.lo || 1)) * w;
  const y = (v: number) => top + h - ((v - ys.lo) / (ys.hi - ys.lo || 1)) * h;
  const svg: string[] = [`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#cbd5e1"/>`];
  for (const t of xs.log ? logTicks(xs.lo, xs.hi) : niceTicks(xs.lo, xs.hi)) {
    const px = x(t).toFixed(1);
    svg.push(`<line x1="${px}" x2="${px}" y1="${top}" y2="${top + h}" stroke="#f1f5f9"/><text x="${px}" y="${top + h + 16}" text-anchor="middle" font-size="11" fill="#475569">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(ys.lo, ys.hi)) {
    const py = y(t).toFixed(1);
    svg.push(`<line x1="${left}" x2="${left + w}" y1="${py}" y2="${py}" stroke="#f1f5f9"/><text x="${left - 6}" y="${py}" dy="4" text-anchor="end" font-size="11" fill="#475569">${fmt(t)}</text>`);
  }
  svg.push(`<text x="${left + w / 2}" y="${top + h + 34}" text-anchor="middle" font-size="12" fill="#0f172a">${escapeXml(xs.label)}</text>`);
  svg.push(`<text transform="translate(${left - 44} ${top + h / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#0f172a">${escapeXml(ys.label)}</text>`);
  return { x, y, svg };
}

function legend(colors: Map<string, string>, x: number, y: number): string {
  return [...colors.entries()]
    .map(([m, c], i) => `<circle cx="${x}" cy="${y + i * 18}" r="5" fill="${c}"/><text x="${x + 10}" y="${y + i * 18}" dy="4" font-size="12" fill="#0f172a">${escapeXml(methodLabel(m))}</text>`)
    .join('');
}

function pad(lo: number, hi: number, frac = 0.06): [number, number] {
  const d = (hi - lo || Math.abs(hi) || 1) * frac;
  return [lo - d, hi + d];
}

/** Parameters × validation perplexity: means with their 95% intervals, the front joined, points numbered as the table's rows. */
export function paretoSvg(report: Report): string {
  const W = 760;
  const H = 440;
  const rows = report.configurations.filter((r) => Number.isFinite(r.validPpl.mean) && r.params > 0);
  const colors = methodColors(rows.map((r) => r.method));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ${FONT} role="img" aria-label="Pareto front: parameters against validation perplexity">`;
  if (!rows.length) return `${head}<text x="20" y="40" font-size="14">No finished configuration.</text></svg>`;
  const lows = rows.map((r) => (Number.isFinite(r.validPpl.lo) ? r.validPpl.lo : r.validPpl.mean));
  const highs = rows.map((r) => (Number.isFinite(r.validPpl.hi) ? r.validPpl.hi : r.validPpl.mean));
  const [ylo, yhi] = pad(Math.min(...lows), Math.max(...highs));
  const pmin = Math.min(...rows.map((r) => r.params));
  const pmax = Math.max(...rows.map((r) => r.params));
  const f = frame(70, 20, 540, 360, { lo: pmin / 1.25, hi: pmax * 1.25, log: true, label: 'parameters (log scale)' }, { lo: ylo, hi: yhi, label: 'validation perplexity (mean, 95% interval)' });
  const front = rows.filter((r) => r.front).sort((a, b) => a.params - b.params);
  const out = [head, `<title>Pareto front: parameters against validation perplexity</title>`, ...f.svg];
  if (front.length > 1) out.push(`<polyline fill="none" stroke="#94a3b8" stroke-dasharray="4 3" points="${front.map((r) => `${f.x(r.params).toFixed(1)},${f.y(r.validPpl.mean).toFixed(1)}`).join(' ')}"/>`);
  for (const r of rows) {
    const cx = f.x(r.params).toFixed(1);
    const c = colors.get(r.method)!;
    if (Number.isFinite(r.validPpl.lo)) out.push(`<line x1="${cx}" x2="${cx}" y1="${f.y(r.validPpl.lo).toFixed(1)}" y2="${f.y(r.validPpl.hi).toFixed(1)}" stroke="${c}" stroke-width="1.5"/>`);
    out.push(`<circle class="point" cx="${cx}" cy="${f.y(r.validPpl.mean).toFixed(1)}" r="${r.front ? 5.5 : 4}" fill="${r.front ? c : '#fff'}" stroke="${c}" stroke-width="1.5"><title>${escapeXml(`${r.n}. ${r.label}: ${r.params} parameters, ${r.validPpl.mean.toFixed(2)}`)}</title></circle>`);
    out.push(`<text class="point-n" x="${(Number(cx) + 7).toFixed(1)}" y="${f.y(r.validPpl.mean).toFixed(1)}" dy="-5" font-size="10" fill="#334155">${r.n}</text>`);
  }
  out.push(legend(colors, 630, 30), `<text x="624" y="${30 + colors.size * 18 + 14}" font-size="11" fill="#475569">filled: on the front</text>`, '</svg>');
  return out.join('');
}

/** Validation perplexity over steps, one line per configuration (mean over seeds): trained from scratch on the left, fine-tuned on the right. */
export function curvesSvg(report: Report): string {
  const W = 960;
  const H = 420;
  const colors = methodColors(report.configurations.map((r) => r.method));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ${FONT} role="img" aria-label="Validation curves: perplexity over steps per configuration">`;
  const panels = [
    { title: 'trained from scratch', lines: report.curves.filter((c) => !c.finetuned) },
    { title: 'fine-tuned from the baseline', lines: report.curves.filter((c) => c.finetuned) },
  ].filter((p) => p.lines.some((l) => l.points.length));
  if (!panels.length) return `${head}<text x="20" y="40" font-size="14">No validation curve.</text></svg>`;
  const out = [head, '<title>Validation curves</title>'];
  const pw = (W - 200) / panels.length - 70;
  panels.forEach((p, k) => {
    const pts = p.lines.flatMap((l) => l.points);
    const values = pts.map((q) => q.value);
    // Clip the first points' huge perplexities: the axis shows the last 90% of the range of where the lines end.
    const ends = p.lines.map((l) => l.points.at(-1)?.value ?? NaN).filter(Number.isFinite);
    const yhiRaw = Math.min(Math.max(...values), Math.max(...ends) * 2.5);
    const [ylo, yhi] = pad(Math.min(...values), yhiRaw);
    const left = 70 + k * (pw + 70);
    const f = frame(left, 30, pw, 320, { lo: Math.min(...pts.map((q) => q.step)), hi: Math.max(...pts.map((q) => q.step)), log: false, label: 'step' }, { lo: ylo, hi: yhi, label: 'validation perplexity' });
    out.push(`<text x="${left}" y="20" font-size="13" fill="#0f172a">${escapeXml(p.title)}</text>`, ...f.svg);
    out.push(`<clipPath id="clip${k}"><rect x="${left}" y="30" width="${pw}" height="320"/></clipPath>`);
    for (const l of p.lines) {
      const c = colors.get(report.configurations.find((r) => r.n === l.n)!.method)!;
      out.push(`<polyline clip-path="url(#clip${k})" fill="none" stroke="${c}" stroke-width="1.5" points="${l.points.map((q) => `${f.x(q.step).toFixed(1)},${f.y(q.value).toFixed(1)}`).join(' ')}"><title>${escapeXml(`${l.n}. ${l.label}`)}</title></polyline>`);
      const last = l.points.at(-1);
      if (last) out.push(`<text x="${(f.x(last.step) + 3).toFixed(1)}" y="${f.y(last.value).toFixed(1)}" dy="3" font-size="9" fill="#334155">${l.n}</text>`);
    }
  });
  out.push(legend(colors, W - 160, 40), '</svg>');
  return out.join('');
}

/**
 * Per compressed matrix (a panel each): every compression configuration's reconstruction error
 * against its validation perplexity right after compression (before fine-tuning), the error
 * weighted by frequency (filled) and with every word alike (hollow), joined; log-scale errors.
 */
export function errorSvg(report: Report): string {
  const rows = report.ranks.filter((k): k is typeof k & { validBefore: number } => k.validBefore !== null && Number.isFinite(k.validBefore) && k.werr > 0);
  const matrices = [...new Set(rows.map((k) => k.matrix))];
  const W = 960;
  const H = 420;
  const head = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ${FONT} role="img" aria-label="Error against perplexity: each compressed matrix's reconstruction error against the validation perplexity right after compression">`;
  if (!rows.length) return `${head}<text x="20" y="40" font-size="14">No compressed matrix with a perplexity before fine-tuning.</text></svg>`;
  const method = new Map(report.configurations.map((c) => [c.n, c.method]));
  const label = new Map(report.configurations.map((c) => [c.n, c.label]));
  // The configurations' order, as in the other figures: a method keeps its colour across them.
  const shown = new Set(rows.map((k) => method.get(k.n)!));
  const colors = new Map([...methodColors(report.configurations.map((c) => c.method))].filter(([m]) => shown.has(m)));
  const ys = rows.map((k) => k.validBefore);
  const [ylo, yhi] = pad(Math.min(...ys), Math.max(...ys));
  const out = [head, '<title>Error against perplexity</title>'];
  const pw = (W - 200) / matrices.length - 70;
  matrices.forEach((m, k) => {
    const mine = rows.filter((r) => r.matrix === m);
    const xs = mine.flatMap((r) => (r.error !== null && r.error > 0 ? [r.werr, r.error] : [r.werr]));
    const left = 70 + k * (pw + 70);
    const f = frame(left, 30, pw, 320, { lo: Math.min(...xs) / 1.15, hi: Math.max(...xs) * 1.15, log: true, label: `${m}: relative error (log scale)` }, { lo: ylo, hi: yhi, label: 'validation ppl before fine-tuning' });
    out.push(`<text x="${left}" y="20" font-size="13" fill="#0f172a">${escapeXml(m)}</text>`, ...f.svg);
    for (const r of mine) {
      const c = colors.get(method.get(r.n)!)!;
      const y = f.y(r.validBefore).toFixed(1);
      const name = `${r.n}. ${label.get(r.n)}`;
      if (r.error !== null && r.error > 0) {
        out.push(`<line x1="${f.x(r.werr).toFixed(1)}" x2="${f.x(r.error).toFixed(1)}" y1="${y}" y2="${y}" stroke="${c}" stroke-opacity="0.4"/>`);
        out.push(`<circle class="error" cx="${f.x(r.error).toFixed(1)}" cy="${y}" r="4" fill="#fff" stroke="${c}" stroke-width="1.5"><title>${escapeXml(`${name}: error ${r.error.toFixed(4)} (every word alike)`)}</title></circle>`);
      }
      out.push(`<circle class="werr" cx="${f.x(r.werr).toFixed(1)}" cy="${y}" r="4.5" fill="${c}"><title>${escapeXml(`${name}: error ${r.werr.toFixed(4)} (weighted by frequency)`)}</title></circle>`);
      out.push(`<text x="${(f.x(r.werr) - 6).toFixed(1)}" y="${y}" dy="-6" text-anchor="end" font-size="9" fill="#334155">${r.n}</text>`);
    }
  });
  out.push(legend(colors, W - 160, 40), `<text x="${W - 166}" y="${40 + colors.size * 18 + 14}" font-size="11" fill="#475569">filled: weighted by q</text>`, `<text x="${W - 166}" y="${40 + colors.size * 18 + 30}" font-size="11" fill="#475569">hollow: words alike</text>`, '</svg>');
  return out.join('');
}
