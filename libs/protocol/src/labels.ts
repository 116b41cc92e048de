// One readable label per configuration, the same in the terminal (`lmsweep leaderboard`) and on
// the dashboard: its method, then only the config fields that say what this configuration is
// ("groupreduce rate 4, 10 blocks", "phm n=4", "dense hidden 64"). No zod here: the dashboard's
// browser bundle imports this file alone (@lmsweep/protocol/labels).
//
// The fields are derived from the configurations shown together, not from a list of methods (a
// new method labels itself the same way):
//  - a few fields that state a method's size are named whenever a configuration has them
//    (HEADLINE), a block count of 1 only when the method's configurations differ in it;
//  - `prefer`, e.g. a sweep's grid keys, are named wherever a configuration sets them (swept on
//    purpose: shown even while one value has finished);
//  - a field every configuration has (model, training, dataset, budget) is named where the values
//    differ, on the rows whose method varies in it or whose value is not the one most rows have
//    (a control trained longer says so, the rest do not repeat the common value);
//  - a field only some configurations have (model.phm, compress: what a method reads) is named
//    where it varies among the configurations of the same method;
//  - `method` itself never: the label leads with it.
// Each field goes by the shortest tail of its path that no other field of these configurations
// ends with ("hidden", but "training.lr" beside a "compress.finetune.lr").
import { methodLabel } from './methods.ts';

export interface LabelRow {
  method: string;
  config?: unknown;
  isBaseline?: boolean;
}

export interface LabelOptions {
  /** Dotted paths named wherever a configuration sets them (a sweep's grid keys), in this order after the headline fields. */
  prefer?: readonly string[];
  /** Whether the baseline's label ends in " (baseline)" (default true; the dashboard shows a tag instead). */
  baselineSuffix?: boolean;
}

/** Fields that give a method's size: named whenever present, unless trivial and the same across the method's configurations. */
const HEADLINE: readonly { key: string; trivial?: (v: unknown) => boolean }[] = [
  { key: 'model.phm.n' },
  { key: 'model.lowrank.rank' },
  { key: 'compress.rate' },
  { key: 'compress.blocks', trivial: (v) => v === 1 },
];

/** How some fields read; the rest read "name value". */
const PHRASES: Readonly<Record<string, (v: string) => string>> = {
  'model.phm.n': (v) => `n=${v}`,
  'compress.blocks': (v) => (v === '1' ? '1 block' : `${v} blocks`),
  'compress.iters': (v) => `${v} iters`,
  'compress.weightPower': (v) => `weights q^${v}`,
};

/** Leaves of a config by dotted path (arrays are leaves), in an object without a prototype: keys are data. */
export function flattenConfig(v: unknown, prefix = '', out: Record<string, unknown> = Object.create(null) as Record<string, unknown>): Record<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) flattenConfig(child, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = v;
  }
  return out;
}

/** A setting's value in a label: numbers to four significant digits, lists joined with "+". */
export function formatSetting(v: unknown): string {
  if (Array.isArray(v)) return v.map(formatSetting).join('+');
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(4));
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? String(v);
}

/**
 * For each of `keys`, the shortest tail of its dotted path that no other path of `among` (default:
 * `keys`) ends with: "model.hidden" → "hidden"; "training.lr" stays whole beside "compress.finetune.lr".
 */
export function shortNames(keys: readonly string[], among: readonly string[] = keys): Map<string, string> {
  const names = new Map<string, string>();
  const others = [...new Set([...among, ...keys])];
  for (const key of keys) {
    const parts = key.split('.');
    for (let n = 1; n <= parts.length; n++) {
      const tail = parts.slice(-n).join('.');
      if (n === parts.length || !others.some((k) => k !== key && (k === tail || k.endsWith(`.${tail}`)))) {
        names.set(key, tail);
        break;
      }
    }
  }
  return names;
}

const text = (v: unknown) => JSON.stringify(v) ?? 'undefined';

/** The number of distinct values of `key` among `rows` (absent counts as one). */
const distinct = (rows: readonly Record<string, unknown>[], key: string) => new Set(rows.map((r) => text(r[key]))).size;

/** The value most rows have for `key`, if one value has more rows than any other. */
function majority(rows: readonly Record<string, unknown>[], key: string): string | undefined {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(text(r[key]), (counts.get(text(r[key])) ?? 0) + 1);
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  return sorted.length && (sorted.length === 1 || sorted[0]![1] > sorted[1]![1]) ? sorted[0]![0] : undefined;
}

/** For each row, the dotted paths its label names, in the order it names them (see the rules above). */
export function labelFields(rows: readonly LabelRow[], opts: LabelOptions = {}): string[][] {
  const prefer = (opts.prefer ?? []).filter((k) => k !== 'method');
  const flat = rows.map((r) => {
    const f = flattenConfig(r.config);
    delete f.method;
    return f;
  });
  const allKeys = [...new Set(flat.flatMap((f) => Object.keys(f)))];
  const common = new Set(allKeys.filter((k) => flat.every((f) => Object.hasOwn(f, k))));
  const byMethod = new Map<string, Record<string, unknown>[]>();
  rows.forEach((r, i) => {
    const peers = byMethod.get(r.method);
    if (peers) peers.push(flat[i]!);
    else byMethod.set(r.method, [flat[i]!]);
  });
  const majorities = new Map([...common].map((k) => [k, majority(flat, k)]));
  const isHeadline = (k: string) => HEADLINE.some((h) => h.key === k);

  // Counted once per field (and method), not per row: thousands of rows label in linear time.
  const counts = new Map<string, number>();
  const count = (group: string, of: readonly Record<string, unknown>[], k: string) => {
    const key = `${group}\u0000${k}`;
    let n = counts.get(key);
    if (n === undefined) counts.set(key, (n = distinct(of, k)));
    return n;
  };
  return rows.map((row, i) => {
    const f = flat[i]!;
    const peers = byMethod.get(row.method)!;
    const variesInMethod = (k: string) => count(`m:${row.method}`, peers, k) > 1;
    const headline = HEADLINE.filter((h) => Object.hasOwn(f, h.key) && !(h.trivial?.(f[h.key]) && !variesInMethod(h.key))).map((h) => h.key);
    const preferred = prefer.filter((k) => Object.hasOwn(f, k) && !isHeadline(k));
    // In the config's own order (model.embedding before model.hidden …).
    const rest = Object.keys(f)
      .filter((k) => !isHeadline(k) && !preferred.includes(k))
      .filter((k) => (common.has(k) ? count('*', flat, k) > 1 && (variesInMethod(k) || majorities.get(k) !== text(f[k])) : variesInMethod(k)));
    // What the method sets first, then the common fields.
    return [...headline, ...preferred, ...rest.filter((k) => !common.has(k)), ...rest.filter((k) => common.has(k))];
  });
}

/** A label per row, in order: "method field value, …", with " (baseline)" for the baseline (unless told not to). */
export function configLabels(rows: readonly LabelRow[], opts: LabelOptions = {}): string[] {
  const fields = labelFields(rows, opts);
  const flat = rows.map((r) => flattenConfig(r.config));
  // Names told apart from every field these configurations have, shown or not.
  const names = shortNames([...new Set(fields.flat())], [...new Set(flat.flatMap((f) => Object.keys(f)))]);
  const suffix = opts.baselineSuffix ?? true;
  return rows.map((row, i) => {
    const parts = fields[i]!.map((k) => {
      const v = formatSetting(flat[i]![k]);
      return PHRASES[k]?.(v) ?? `${names.get(k) ?? k} ${v}`;
    });
    return `${methodLabel(row.method)}${parts.length ? ` ${parts.join(', ')}` : ''}${suffix && row.isBaseline ? ' (baseline)' : ''}`;
  });
}

/** The grid keys of a sweep's spec (an object with a `grid` record), or []: what `prefer` takes for one sweep's configurations. */
export function gridKeys(spec: unknown): string[] {
  if (spec === null || typeof spec !== 'object' || !Object.hasOwn(spec, 'grid')) return [];
  const g = (spec as { grid?: unknown }).grid;
  return g !== null && typeof g === 'object' && !Array.isArray(g) ? Object.keys(g) : [];
}

/** The parameters a stored spec varies, in its order: its grid's keys, or a sampled sweep's space's. */
export function variedKeys(spec: unknown): string[] {
  const grid = gridKeys(spec);
  if (grid.length || spec === null || typeof spec !== 'object' || !Object.hasOwn(spec, 'space')) return grid;
  const s = (spec as { space?: unknown }).space;
  return s !== null && typeof s === 'object' && !Array.isArray(s) ? Object.keys(s) : [];
}
