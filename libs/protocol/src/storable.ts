// What the database can store. PostgreSQL's text and jsonb refuse NUL (\u0000), an unpaired UTF-16
// surrogate has no UTF-8 form (the driver refuses the parameter), and an int4 column holds at most
// 2³¹ − 1: such values are refused where they come in (the wire schema, spec parsing), naming the
// field, instead of failing a statement.

/** Largest value of a PostgreSQL `integer` (int4) column. */
export const INT4_MAX = 2 ** 31 - 1;

const UNSTORABLE = /[\u0000\p{Cs}]/u;
export const UNSTORABLE_MESSAGE = 'must not contain NUL (\\u0000) or unpaired surrogate characters';

/** Whether the database can store `s` as text or inside jsonb. */
export function storableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/**
 * The strings (values and object keys) in a JSON-like value that the database cannot store, each
 * named by its dotted path; at most `limit` of them.
 */
export function unstorableStrings(v: unknown, limit = 20): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const walk = (x: unknown, path: string[]) => {
    if (out.length >= limit) return;
    if (typeof x === 'string') {
      if (!storableText(x)) out.push({ path: path.join('.'), message: UNSTORABLE_MESSAGE });
      return;
    }
    if (typeof x !== 'object' || x === null) return;
    for (const [k, y] of Object.entries(x)) {
      if (!storableText(k)) out.push({ path: [...path, k].join('.'), message: `invalid key: ${UNSTORABLE_MESSAGE}` });
      walk(y, [...path, k]);
      if (out.length >= limit) return;
    }
  };
  walk(v, []);
  return out.slice(0, limit);
}
