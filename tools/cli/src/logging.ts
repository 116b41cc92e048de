// The logger of a long-running command (coordinator, worker, demo): pino, writing readable lines
// (log-format.ts) on a terminal or with --log pretty, JSON lines otherwise or with --log json.
// Either way what reaches the stream is terminal-safe (JSON stays valid: escapes are JSON's own).
import pino, { type DestinationStream, type Logger } from 'pino';
import { formatLogLine, resolveLogFormat, type LogFormatFlag } from './log-format.ts';
import { safeText } from './terminal-text.ts';

export interface LogStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

export interface CliLoggerOptions {
  level: string;
  format: LogFormatFlag;
  /** Where lines go (process.stderr for the worker, process.stdout for the coordinator). */
  stream: LogStream;
  /** Colours on a pretty terminal (default: unless $NO_COLOR is set). */
  color?: boolean;
}

/** A pino destination writing `format` lines to `stream`. */
export function logDestination(format: 'pretty' | 'json', stream: LogStream, color: boolean): DestinationStream {
  if (format === 'json') return { write: (chunk: string) => void stream.write(safeText(chunk, { multiline: true })) };
  // On a terminal, clear the line first: the worker's progress bar may be drawn on it.
  const clear = stream.isTTY ? '\r\x1b[2K' : '';
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line.trim()) stream.write(`${clear}${formatLogLine(line, { color })}\n`);
    },
  };
}

/** The resolved format ('pretty' or 'json') and a logger writing it. */
export function cliLogger(o: CliLoggerOptions): { logger: Logger; format: 'pretty' | 'json' } {
  const format = resolveLogFormat(o.format, Boolean(o.stream.isTTY));
  const color = o.color ?? (Boolean(o.stream.isTTY) && !process.env.NO_COLOR);
  return { logger: pino({ level: o.level }, logDestination(format, o.stream, color)), format };
}
