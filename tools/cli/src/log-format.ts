// Readable log lines for a person's terminal, from pino's JSON lines:
//   20:41:03 WARN  coordinator unreachable; retrying  err="connect ECONNREFUSED 127.0.0.1:4317" retryMs=2000
// Every value is made terminal-safe (terminal-text.ts): a worker name or trial error from the
// network cannot recolour or reorder the terminal. Pure: no I/O.
import { safeText } from './terminal-text.ts';

export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormatFlag = (typeof LOG_FORMATS)[number];

/** `--log auto` is readable lines on a terminal and JSON lines anywhere else. */
export function resolveLogFormat(flag: LogFormatFlag, isTTY: boolean): 'pretty' | 'json' {
  return flag === 'auto' ? (isTTY ? 'pretty' : 'json') : flag;
}

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** SGR colours by level: grey, grey, default, yellow, red, red. */
const LEVEL_COLOR: Readonly<Record<number, string>> = { 10: '90', 20: '90', 40: '33', 50: '31', 60: '31' };
/** pino's bookkeeping: shown as the time and level, or not at all. */
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

export interface PrettyOptions {
  /** ANSI colours for the level and the field names. */
  color?: boolean;
  /** Times in UTC instead of local time (tests). */
  utc?: boolean;
}

const two = (n: number) => String(n).padStart(2, '0');
const clock = (d: Date, utc: boolean) => (utc ? [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()] : [d.getHours(), d.getMinutes(), d.getSeconds()]).map(two).join(':');

function scalar(v: unknown): string {
  if (typeof v === 'string') return v === '' || /[\s="\\]/.test(v) ? safeText(JSON.stringify(v)) : safeText(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return String(v);
  return safeText(JSON.stringify(v));
}

/** An error as pino serializes it ({ type, message, stack }): its message. */
function errorMessage(v: unknown): string | undefined {
  return v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string' ? (v as { message: string }).message : undefined;
}

/** One pino JSON line as a readable line (an error's stack indented below it at level error and above). */
export function formatLogLine(line: string, o: PrettyOptions = {}): string {
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return safeText(line.trimEnd());
  }
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return safeText(line.trimEnd());
  const r = rec as Record<string, unknown>;
  const paint = (code: string | undefined, s: string) => (o.color && code ? `\x1b[${code}m${s}\x1b[0m` : s);
  const levelNum = typeof r.level === 'number' ? r.level : undefined;
  const levelWord = levelNum !== undefined ? (LEVELS[levelNum] ?? `L${levelNum}`) : safeText(String(r.level ?? '?')).toUpperCase();
  const time = typeof r.time === 'number' || typeof r.time === 'string' ? clock(new Date(r.time), Boolean(o.utc)) : '--:--:--';
  const fields: string[] = [];
  let stack: string | undefined;
  for (const [k, v] of Object.entries(r)) {
    if (OMIT.has(k)) continue;
    const message = errorMessage(v);
    if (message !== undefined) {
      fields.push(`${paint('2', safeText(k))}=${scalar(message)}`);
      const s = (v as { stack?: unknown }).stack;
      if (typeof s === 'string' && levelNum !== undefined && levelNum >= 50) stack = s;
    } else fields.push(`${paint('2', safeText(k))}=${scalar(v)}`);
  }
  const msg = typeof r.msg === 'string' ? safeText(r.msg) : '';
  const level = paint(levelNum !== undefined ? LEVEL_COLOR[levelNum] : undefined, levelWord) + ' '.repeat(Math.max(0, 5 - levelWord.length));
  let text = `${time} ${level} ${msg}${fields.length ? `  ${fields.join(' ')}` : ''}`.trimEnd();
  if (stack) {
    const frames = stack.split('\n').slice(1).map((l) => `    ${safeText(l.trim())}`);
    if (frames.length) text += `\n${frames.join('\n')}`;
  }
  return text;
}
