// Reading trial configs by dotted path. Labels (what tells configurations apart) are
// @lmsweep/protocol/labels, shared with the CLI's leaderboard.

/** The value at a dotted path ("model.hidden"), following own properties only: a key is data, never a way into a prototype. */
export function getPath(v: unknown, path: string): unknown {
  let node = v;
  for (const p of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, p)) return undefined;
    node = (node as Record<string, unknown>)[p];
  }
  return node;
}

/** Whether the sweep samples its configurations (its spec has `search`). */
export function isSampled(spec: unknown): boolean {
  const s = getPath(spec, 'search');
  return s !== null && typeof s === 'object';
}
