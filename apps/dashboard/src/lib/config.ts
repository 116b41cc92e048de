// Trial configs as flat dotted paths, to show only the fields that vary across a set of trials.

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

/** The grid keys of a sweep's spec (an object with a `grid` record), or []. */
export function gridKeys(spec: unknown): string[] {
  const g = getPath(spec, 'grid');
  return g && typeof g === 'object' && !Array.isArray(g) ? Object.keys(g) : [];
}
