// Grid values typed into the sweep page's "Add values": "96, 128" → [96, 128]; true/false are
// booleans, anything else a string (as a spec's YAML would read them).

export type GridValue = number | boolean | string;

/** One value: a number, true/false, or else the text itself (trimmed). */
export function gridValue(raw: string): GridValue {
  const t = raw.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
  if (t === 'true' || t === 'false') return t === 'true';
  return t;
}

/** Comma-separated values, empty ones dropped. */
export function gridValues(raw: string): GridValue[] {
  return raw.split(',').map((v) => v.trim()).filter((v) => v !== '').map(gridValue);
}
