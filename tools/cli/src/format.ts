// Output for people (tables) and for scripts (one JSON object per line, CSV).
import { displayWidth, padToWidth, safeText, truncateToWidth } from './terminal-text.ts';

export interface TableOptions {
  /** Per column; absent: numbers (digits, signs, ×, ±) right-aligned, the rest left. */
  align?: readonly ('left' | 'right' | undefined)[];
  /** Per column: cells wider than this are cut, ending in …. */
  maxWidth?: readonly (number | undefined)[];
}

const NUMERIC = /^[-\d.,×±e+ ]+$/;

/**
 * Columns padded to their widest cell, in terminal columns. Every cell is made terminal-safe
 * first (safeText: escapes, control and bidi characters shown as \u001b, \n, …), so a name from
 * the coordinator can neither recolour the terminal nor break the table's rows.
 */
export function table(headers: string[], rows: (string | number)[][], opts: TableOptions = {}): string {
  const cut = (c: string, i: number) => (opts.maxWidth?.[i] !== undefined ? truncateToWidth(c, opts.maxWidth[i]!) : c);
  const cells = rows.map((r) => r.map((c, i) => cut(safeText(String(c)), i)));
  const head = headers.map((h, i) => cut(safeText(h), i));
  const widths = head.map((h, i) => Math.max(displayWidth(h), ...cells.map((r) => displayWidth(r[i] ?? ''))));
  const alignOf = (c: string, i: number) => opts.align?.[i] ?? (NUMERIC.test(c) ? 'right' : 'left');
  const line = (r: string[], header = false) => r.map((c, i) => padToWidth(c, widths[i]!, header ? (opts.align?.[i] ?? 'left') : alignOf(c, i))).join('  ').trimEnd();
  return [line(head, true), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map((r) => line(r))].join('\n');
}

export function csv(headers: string[], rows: unknown[][]): string {
  const esc = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [headers.join(','), ...rows.map((r) => r.map(esc).join(','))].join('\n');
}

export const fmtNum = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

export function fmtParams(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** The config fields that differ between configs, as "a.b=v" pairs. */
export function varyingFields(configs: unknown[]): string[] {
  const flat = configs.map((c) => flatten(c));
  const keys = new Set(flat.flatMap((f) => Object.keys(f)));
  // `method` has a column of its own.
  return [...keys].filter((k) => k !== 'method' && new Set(flat.map((f) => JSON.stringify(f[k]))).size > 1).sort();
}

/** A config field for a table cell: '-' where this config has no such field (another method's option). */
export function fieldCell(config: unknown, key: string): string {
  const v = flatten(config)[key];
  return v === undefined ? '-' : Array.isArray(v) ? v.join('+') : String(v);
}

/** Leaves of a config by dotted path (arrays are leaves), in an object without a prototype: keys are data. */
export function flatten(v: unknown, prefix = '', out: Record<string, unknown> = Object.create(null) as Record<string, unknown>): Record<string, unknown> {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = v;
  return out;
}
