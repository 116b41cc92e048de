// Output for people (tables) and for scripts (one JSON object per line, CSV).
import { methodLabel } from '@lmsweep/protocol';

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (/^[-\d.,×±e+]+$/.test(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
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

export function flatten(v: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = v;
  return out;
}

export function renderLeaderboard(rows: { method: string; config?: unknown; params: number; compression: number | null; validPpl: { mean: number; halfWidth: number | null }; testPpl: { mean: number; halfWidth: number | null }; seeds: number[]; paretoRank: number; isBaseline: boolean }[]): string {
  const keys = varyingFields(rows.map((r) => r.config));
  const pm = (i: { mean: number; halfWidth: number | null }) => `${fmtNum(i.mean)} ± ${i.halfWidth === null ? '?' : fmtNum(i.halfWidth)}`;
  return table(
    ['', 'method', ...keys, 'params', 'ratio', 'valid ppl (95% CI)', 'test ppl (95% CI)', 'seeds'],
    rows.map((r) => [r.paretoRank === 0 ? '★' : '', methodLabel(r.method) + (r.isBaseline ? ' (baseline)' : ''), ...keys.map((k) => fieldCell(r.config, k)), fmtParams(r.params), r.compression === null ? '-' : `${r.compression.toFixed(2)}×`, pm(r.validPpl), pm(r.testPpl), r.seeds.length]),
  );
}
