// Dotted paths from a spec ("model.phm.n", a grid or baseline key, later a search space's) are
// untrusted data: each is checked here before it is used, and objects are walked and written
// through own properties only, so no segment can reach Object.prototype.

/** Segments that name a prototype rather than a field: refused in every dotted path. */
export const FORBIDDEN_PATH_SEGMENTS: readonly string[] = Object.freeze(['__proto__', 'prototype', 'constructor']);

/** Longest dotted path accepted (the longest real one, "compress.finetune.maxSteps", is 26). */
export const MAX_PATH_CHARS = 200;

/**
 * Why a dotted path cannot name a config field, or null when it can be looked up: not empty,
 * no empty segment, no prototype segment (`__proto__`, `prototype`, `constructor`).
 */
export function pathIssue(path: string): string | null {
  if (path.length === 0) return 'a parameter path is not empty (e.g. "model.hidden")';
  if (path.length > MAX_PATH_CHARS) return `a parameter path has at most ${MAX_PATH_CHARS} characters`;
  const parts = path.split('.');
  const bad = parts.find((p) => FORBIDDEN_PATH_SEGMENTS.includes(p));
  if (bad !== undefined) return `"${bad}" is not a parameter name (${FORBIDDEN_PATH_SEGMENTS.join(', ')} are refused in paths)`;
  if (parts.some((p) => p === '')) return `"${path}" has an empty segment (paths look like "model.hidden")`;
  return null;
}

/** The segments of a dotted path; throws when pathIssue finds a problem (callers check first, this is the backstop). */
export function pathSegments(path: string): string[] {
  const problem = pathIssue(path);
  if (problem) throw new Error(`bad parameter path: ${problem}`);
  return path.split('.');
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The value at a path, following own properties of plain objects only (never arrays, functions
 * or anything inherited); `found` is false when a segment is missing.
 */
export function getOwnPath(obj: unknown, parts: readonly string[]): { found: boolean; value: unknown } {
  let node: unknown = obj;
  for (const p of parts) {
    if (!isRecord(node) || !Object.hasOwn(node, p)) return { found: false, value: undefined };
    node = node[p];
  }
  return { found: true, value: node };
}

/**
 * Sets the value at a path in place, creating plain objects for missing or non-object
 * segments. Every write defines an own property, and prototype segments are refused.
 */
export function setOwnPath(obj: Record<string, unknown>, parts: readonly string[], value: unknown): Record<string, unknown> {
  const bad = parts.find((p) => FORBIDDEN_PATH_SEGMENTS.includes(p));
  if (bad !== undefined || parts.length === 0) throw new Error(`bad parameter path "${parts.join('.')}"`);
  const define = (o: Record<string, unknown>, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  let node = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i]!;
    const next = Object.hasOwn(node, p) ? node[p] : undefined;
    if (isRecord(next)) node = next;
    else {
      const fresh: Record<string, unknown> = {};
      define(node, p, fresh);
      node = fresh;
    }
  }
  define(node, parts[parts.length - 1]!, value);
  return obj;
}
