'use client';
// Export of what a card shows: any table as CSV or JSON (the rows it shows, its header's names),
// any plot as SVG (styles inlined, so it reads the same outside the page) or PNG (drawn at twice
// its size). Wrap the table or chart in <Exportable>: its buttons act on the first table or plot
// inside it.
import { useRef, type ReactNode } from 'react';

function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A cell's text as read aloud: decorations marked aria-hidden (a sort arrow, a swatch) left out. */
function cellText(el: Element): string {
  const copy = el.cloneNode(true) as Element;
  for (const hidden of copy.querySelectorAll('[aria-hidden="true"]')) hidden.remove();
  return (copy.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** A table's header names and its body's rows, as shown (columns without a header name, such as a checkbox, left out). */
export function tableData(table: HTMLTableElement): { columns: string[]; rows: string[][] } {
  const heads = [...table.querySelectorAll('thead th')].map(cellText);
  const keep = heads.map((h, i) => (h ? i : -1)).filter((i) => i >= 0);
  const rows = [...table.querySelectorAll('tbody tr')].map((tr) => {
    const cells = [...tr.querySelectorAll('td, th')].map(cellText);
    return keep.map((i) => cells[i] ?? '');
  });
  return { columns: keep.map((i) => heads[i]!), rows };
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function toCsv(d: { columns: string[]; rows: string[][] }): string {
  return [d.columns, ...d.rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

export function toJson(d: { columns: string[]; rows: string[][] }): string {
  return `${JSON.stringify(
    d.rows.map((r) => Object.fromEntries(d.columns.map((c, i) => [c, r[i] ?? '']))),
    null,
    2,
  )}\n`;
}

const STYLE_PROPS = ['fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-dasharray', 'stroke-opacity', 'opacity', 'font-family', 'font-size', 'font-weight', 'paint-order', 'stroke-linejoin'];

/** A standalone copy of a plot: every element's computed style written on it, a white background, the namespace set. */
export function standaloneSvg(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const from = [svg, ...svg.querySelectorAll('*')];
  const to = [copy, ...copy.querySelectorAll('*')];
  from.forEach((el, i) => {
    const cs = getComputedStyle(el);
    const style = STYLE_PROPS.map((p) => `${p}:${cs.getPropertyValue(p)}`).join(';');
    to[i]!.setAttribute('style', style);
  });
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', '#ffffff');
  copy.insertBefore(bg, copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

async function svgToPng(svg: SVGSVGElement): Promise<Blob> {
  const text = standaloneSvg(svg);
  const img = new Image();
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  try {
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('the plot could not be drawn as an image'));
      img.src = url;
    });
    const scale = 2;
    const canvas = document.createElement('canvas');
    canvas.width = svg.width.baseVal.value * scale;
    canvas.height = svg.height.baseVal.value * scale;
    const ctx = canvas.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no PNG'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** A table or plot with buttons that download it; `name` names the files. */
export function Exportable({ kind, name, children }: { kind: 'table' | 'plot'; name: string; children: ReactNode }) {
  const box = useRef<HTMLDivElement | null>(null);
  const table = () => box.current?.querySelector('table') ?? null;
  const plot = () => box.current?.querySelector<SVGSVGElement>('svg.plot') ?? null;
  const file = name.replace(/[^A-Za-z0-9._-]+/g, '-');
  return (
    <div className="exportable" ref={box}>
      <div className="export-tools" role="group" aria-label={`export ${name}`}>
        {kind === 'table' ? (
          <>
            <button type="button" className="btn btn-tiny" data-testid="export-csv" onClick={() => table() && download(new Blob([toCsv(tableData(table()!))], { type: 'text/csv' }), `${file}.csv`)}>
              CSV
            </button>
            <button type="button" className="btn btn-tiny" data-testid="export-json" onClick={() => table() && download(new Blob([toJson(tableData(table()!))], { type: 'application/json' }), `${file}.json`)}>
              JSON
            </button>
          </>
        ) : (
          <>
            <button type="button" className="btn btn-tiny" data-testid="export-svg" onClick={() => plot() && download(new Blob([standaloneSvg(plot()!)], { type: 'image/svg+xml' }), `${file}.svg`)}>
              SVG
            </button>
            <button type="button" className="btn btn-tiny" data-testid="export-png" onClick={async () => plot() && download(await svgToPng(plot()!), `${file}.png`)}>
              PNG
            </button>
          </>
        )}
      </div>
      {children}
    </div>
  );
}
