// Trial configs as flat dotted paths, to show only the fields that vary across a set of trials.

import { methodLabel } from '@lmsweep/protocol/methods';

export type Flat = Record<string, unknown>;

/** {model: {hidden: 8}, method: 'dense'} → {'model.hidden': 8, method: 'dense'}. Arrays are leaves. */
export function flatten(v: unknown, prefix = '', out: Flat = {}): Flat {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) flatten(child, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = v;
  }
  return out;
}

/** The value at a dotted path. */
export function getPath(v: unknown, path: string): unknown {
  let node = v;
  for (const p of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[p];
  }
  return node;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The dotted paths whose values differ among the configs, in first-seen order; `prefer` (e.g. a
 * sweep's grid keys) come first when they vary.
 */
export function varyingPaths(configs: unknown[], prefer: string[] = []): string[] {
  const flats = configs.map((c) => flatten(c));
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const f of flats) {
    for (const k of Object.keys(f)) {
      if (seen.has(k)) continue;
      seen.add(k);
      keys.push(k);
    }
  }
  const varies = (k: string) => flats.some((f) => !same(f[k], flats[0]?.[k]));
  const first = prefer.filter((k) => seen.has(k) && varies(k));
  return [...first, ...keys.filter((k) => !first.includes(k) && varies(k))];
}

/** "model.hidden" → "hidden"; keeps the last two parts when the last alone is ambiguous. */
export function shortLabel(path: string, all: string[]): string {
  const last = path.split('.').pop() ?? path;
  const clash = all.filter((p) => p !== path && (p.split('.').pop() ?? p) === last).length > 0;
  return clash ? path.split('.').slice(-2).join('.') : last;
}

export interface Configured {
  method: string;
  config?: unknown;
}

/**
 * For each configuration, the dotted paths that tell it apart from the others shown, in
 * first-seen order (`prefer`, e.g. a sweep's grid keys, first). A path is listed for a
 * configuration only when its config sets it (a method's options are absent from other methods'
 * configs, so no row names another method's fields), and when
 *  - it is one of `prefer` (swept on purpose: shown even while one value has finished), or
 *  - every configuration sets it and the values differ (model.hidden across sizes), or
 *  - not every configuration sets it and the configurations of the same method differ at it,
 *    set or not (compress.rate across rates; the extra fine-tuning of a dense control).
 * `method` itself is never listed: the label leads with it.
 */
export function distinguishingPaths(items: Configured[], prefer: string[] = []): string[][] {
  const flats = items.map((c) => flatten(c.config));
  // Preferred paths first, then every other in the configs' own order.
  const order = [...new Set([...prefer, ...flats.flatMap((f) => Object.keys(f))])];
  const byMethod = new Map<string, Flat[]>();
  items.forEach((c, i) => {
    const g = byMethod.get(c.method);
    if (g) g.push(flats[i]!);
    else byMethod.set(c.method, [flats[i]!]);
  });
  const differ = (fs: Flat[], k: string) => fs.some((f) => !same(f[k], fs[0]![k]));
  const setByAll = new Map(order.map((k) => [k, flats.every((f) => Object.hasOwn(f, k))]));
  const variesForAll = new Map(order.map((k) => [k, differ(flats, k)]));
  const variesInMethod = new Map<string, Set<string>>();
  for (const [m, fs] of byMethod) variesInMethod.set(m, new Set(order.filter((k) => differ(fs, k))));
  return items.map((c, i) =>
    order.filter(
      (k) =>
        k !== 'method' &&
        Object.hasOwn(flats[i]!, k) &&
        (prefer.includes(k) || (setByAll.get(k) ? variesForAll.get(k) : variesInMethod.get(c.method)!.has(k))),
    ),
  );
}

/** A setting's value in a label: numbers to four digits, lists joined with "+". */
export function formatSetting(v: unknown): string {
  if (Array.isArray(v)) return v.map(formatSetting).join('+');
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(4));
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? String(v);
}

/**
 * One label per configuration: its method, then the settings that tell it apart
 * ("groupreduce rate=4, blocks=10"; just "dense" when nothing does). See distinguishingPaths.
 */
export function configLabels(items: Configured[], prefer: string[] = []): string[] {
  const paths = distinguishingPaths(items, prefer);
  // Short names are told apart from every field the configurations have ("finetune.lr" when
  // there is a training.lr too, shown or not).
  const all = [...new Set(items.flatMap((c) => Object.keys(flatten(c.config))))];
  return items.map((c, i) => {
    const settings = paths[i]!.map((p) => `${shortLabel(p, all)}=${formatSetting(getPath(c.config, p))}`).join(', ');
    return settings ? `${methodLabel(c.method)} ${settings}` : methodLabel(c.method);
  });
}

/** The grid keys of a sweep's spec (an object with a `grid` record), or []. */
export function gridKeys(spec: unknown): string[] {
  const g = getPath(spec, 'grid');
  return g && typeof g === 'object' && !Array.isArray(g) ? Object.keys(g) : [];
}
