// One readable label per leaderboard row: its method and only the config fields that say what
// this row is ("groupreduce rate 4, 10 blocks", "phm n=4", "dense hidden 64"), derived from the
// rows themselves, not from a list of methods (a new method labels itself the same way):
//  - a field present in every row (model, training, dataset, budget) is named where it varies
//    among rows of the same method, or where the row's value is not the one most rows have
//    (a control row trained longer says so, the rest do not repeat the common value);
//  - a field of a section only some rows have (model.phm, model.lowrank, compress: what a
//    method reads) is named where it varies among rows of the same method;
//  - a few fields that state a method's size are named whenever a row has them (HEADLINE).
import { methodLabel } from '@lmsweep/protocol';
import { flatten } from './format.ts';

export interface LabelRow {
  method: string;
  config?: unknown;
  isBaseline?: boolean;
}

/** Fields that give a method's size: named whenever present, unless trivial and the same across the method's rows. */
const HEADLINE: readonly { key: string; trivial?: (v: unknown) => boolean }[] = [
  { key: 'model.phm.n' },
  { key: 'model.lowrank.rank' },
  { key: 'compress.rate' },
  { key: 'compress.blocks', trivial: (v) => v === 1 },
];

/** How some fields read; the rest read "name value" (name: the shortest tail of the path no other shown field ends with). */
const PHRASES: Readonly<Record<string, (v: string) => string>> = {
  'model.phm.n': (v) => `n=${v}`,
  'compress.blocks': (v) => (v === '1' ? '1 block' : `${v} blocks`),
  'compress.iters': (v) => `${v} iters`,
};

const valueText = (v: unknown) => (Array.isArray(v) ? v.join('+') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

/** For each key, the shortest tail of its dotted path that no other key ends with. */
function shortNames(keys: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const key of keys) {
    const parts = key.split('.');
    for (let n = 1; n <= parts.length; n++) {
      const tail = parts.slice(-n).join('.');
      if (n === parts.length || !keys.some((k) => k !== key && (k === tail || k.endsWith(`.${tail}`)))) {
        names.set(key, tail);
        break;
      }
    }
  }
  return names;
}

/** The distinct values of `key` among `rows` (absent counts as one). */
const distinct = (rows: readonly Record<string, unknown>[], key: string) => new Set(rows.map((r) => JSON.stringify(r[key]))).size;

/** The value most rows have for `key`, if one value has more rows than any other. */
function majority(rows: readonly Record<string, unknown>[], key: string): string | undefined {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(JSON.stringify(r[key]), (counts.get(JSON.stringify(r[key])) ?? 0) + 1);
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  return sorted.length && (sorted.length === 1 || sorted[0]![1] > sorted[1]![1]) ? sorted[0]![0] : undefined;
}

/** A label per row, in order: "method field value, …" with " (baseline)" for the baseline. */
export function configLabels(rows: readonly LabelRow[]): string[] {
  const flat = rows.map((r) => {
    const f = flatten(r.config ?? {});
    delete f.method;
    return f;
  });
  const allKeys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const common = new Set(allKeys.filter((k) => flat.every((f) => Object.hasOwn(f, k))));
  const byMethod = new Map<string, Record<string, unknown>[]>();
  rows.forEach((r, i) => byMethod.set(r.method, [...(byMethod.get(r.method) ?? []), flat[i]!]));
  const majorities = new Map(allKeys.filter((k) => common.has(k)).map((k) => [k, majority(flat, k)]));

  const shown = rows.map((row, i) => {
    const f = flat[i]!;
    const peers = byMethod.get(row.method)!;
    const variesInMethod = (k: string) => distinct(peers, k) > 1;
    const headline = HEADLINE.filter((h) => Object.hasOwn(f, h.key) && !(h.trivial?.(f[h.key]) && !variesInMethod(h.key))).map((h) => h.key);
    // In the config's own order (model.embedding before model.hidden …).
    const rest = Object.keys(f)
      .filter((k) => !HEADLINE.some((h) => h.key === k))
      .filter((k) => (common.has(k) ? distinct(flat, k) > 1 && (variesInMethod(k) || majorities.get(k) !== JSON.stringify(f[k])) : variesInMethod(k)));
    // Sections first (what the method sets), then the common fields.
    return [...headline, ...rest.filter((k) => !common.has(k)), ...rest.filter((k) => common.has(k))];
  });
  // Names unambiguous among the fields some label shows.
  const names = shortNames([...new Set(shown.flat())]);
  return rows.map((row, i) => {
    const f = flat[i]!;
    const parts = shown[i]!.map((k) => {
      const v = valueText(f[k]);
      return PHRASES[k]?.(v) ?? `${names.get(k) ?? k} ${v}`;
    });
    return `${methodLabel(row.method)}${parts.length ? ` ${parts.join(', ')}` : ''}${row.isBaseline ? ' (baseline)' : ''}`;
  });
}
