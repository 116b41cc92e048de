// Number and time formatting shared by every page. Pure functions.

const DASH = '—';

function finite(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** 950 → "950", 12_345 → "12.3k", 1_234_567 → "1.23M", 2.5e9 → "2.50G". */
export function formatCount(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  const a = Math.abs(n);
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) {
    if (a >= size * 0.9995) {
      const v = n / size;
      // Three significant digits, decided after rounding (99.96k is "100k", not "100.0k").
      const digits = Math.abs(v) >= 99.95 ? 0 : Math.abs(v) >= 9.995 ? 1 : 2;
      return `${v.toFixed(digits)}${unit}`;
    }
  }
  return String(Math.round(n));
}

/** Perplexity to one decimal; non-finite values (diverged runs) say so. */
export function formatPpl(x: number | null | undefined): string {
  if (x === null || x === undefined) return DASH;
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return '∞';
  return x >= 1e5 ? x.toExponential(2) : x.toFixed(1);
}

/** "123.4 ± 5.6" (the half-width of the confidence interval); just the mean with one seed. */
export function formatPplCI(mean: number | null | undefined, halfWidth: number | null | undefined): string {
  if (!finite(halfWidth) || halfWidth === 0) return formatPpl(mean);
  return `${formatPpl(mean)} ± ${formatPpl(halfWidth)}`;
}

/** Compression ratio: "4.0×", "1×" for the baseline. */
export function formatRatio(x: number | null | undefined): string {
  if (!finite(x)) return DASH;
  if (Math.abs(x - 1) < 1e-9) return '1×';
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

/** 0.4567 → "46%". */
export function formatPercent(x: number | null | undefined): string {
  if (!finite(x)) return DASH;
  return `${Math.round(Math.max(0, Math.min(1, x)) * 100)}%`;
}

/** Seconds → "850 ms", "42 s", "3m 05s", "2h 07m". */
export function formatDuration(seconds: number | null | undefined): string {
  if (!finite(seconds) || seconds < 0) return DASH;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(s / 3600);
  if (h < 48) return `${h}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

function toMs(t: string | number | Date | null | undefined): number | null {
  if (t === null || t === undefined) return null;
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

/** "just now", "3 s ago", "4 min ago", "2 h ago", "3 d ago". */
export function formatAgo(t: string | number | Date | null | undefined, now: number): string {
  const ms = toMs(t);
  if (ms === null) return DASH;
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 1) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** Local date and time to the minute: "2026-11-23 15:40". */
export function formatDateTime(t: string | number | Date | null | undefined): string {
  const ms = toMs(t);
  if (ms === null) return DASH;
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Seconds between two times, or null. */
export function secondsBetween(a: string | number | Date | null | undefined, b: string | number | Date | null | undefined): number | null {
  const x = toMs(a);
  const y = toMs(b);
  return x === null || y === null ? null : (y - x) / 1000;
}

/** A config value in a table cell. */
export function formatValue(v: unknown): string {
  if (v === undefined) return DASH;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(4));
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** A short id for display: the first 8 characters. */
export function shortId(id: string): string {
  return id.length > 10 ? id.slice(0, 8) : id;
}

/** Axis ticks: like formatCount without trailing zeros ("8k", "12.5k", "1M"). */
export function formatTick(n: number): string {
  const s = formatCount(n);
  return s.replace(/\.0+([kMGT]?)$/, '$1').replace(/(\.\d*[1-9])0+([kMGT]?)$/, '$1$2');
}
