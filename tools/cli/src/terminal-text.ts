// Text for a person's terminal: strings from the coordinator (sweep and worker names, hosts,
// devices, trial errors) may carry ANSI escapes, other control characters or bidi overrides that
// would recolour, rewrite or reorder what the terminal shows. Every one is made visible as an
// escape instead (\n, \r, \t, \uXXXX), which also keeps a JSON line valid JSON with the same value.
// Widths count terminal columns (wide CJK and emoji count two, combining marks none).

/**
 * C0 controls (ESC among them), DEL, C1 controls (0x9B is a one-byte CSI), the bidi embeddings,
 * overrides, isolates and marks, and the line/paragraph separators.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_KEEP_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const visible = (c: string) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `s` with every control, bidi and separator character made a visible escape; `multiline` keeps \n. */
export function safeText(s: string, opts: { multiline?: boolean } = {}): string {
  return s.replace(opts.multiline ? UNSAFE_KEEP_NEWLINE : UNSAFE, visible);
}

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200d\ufe00-\ufe0f]$/u;

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Terminal columns of one code point (of already-safe text). */
function charWidth(c: string): number {
  if (ZERO_WIDTH.test(c)) return 0;
  return isWide(c.codePointAt(0)!) ? 2 : 1;
}

/** Terminal columns `s` takes (after safeText). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const c of s) w += charWidth(c);
  return w;
}

/** `s` cut to at most `width` columns, ending in … when cut. */
export function truncateToWidth(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  let out = '';
  let w = 0;
  for (const c of s) {
    const cw = charWidth(c);
    if (w + cw > width - 1) break;
    out += c;
    w += cw;
  }
  return `${out}…`;
}

/** `s` padded with spaces to `width` columns, on the right (left-aligned) or on the left. */
export function padToWidth(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  const pad = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return align === 'left' ? s + pad : pad + s;
}

/** Words of `text` in lines of at most `width` columns (a longer word keeps its own line). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && displayWidth(line) + 1 + displayWidth(word) > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}
