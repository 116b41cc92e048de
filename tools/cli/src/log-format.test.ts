import { describe, expect, it } from 'vitest';
import { formatLogLine, resolveLogFormat } from './log-format.ts';
import { cliLogger, type LogStream } from './logging.ts';

// 2026-12-01 20:41:03.250 UTC
const T = Date.UTC(2026, 11, 1, 20, 41, 3, 250);
const line = (o: Record<string, unknown>) => JSON.stringify({ level: 40, time: T, pid: 123, hostname: 'vm', ...o });

describe('formatLogLine', () => {
  it('reads as time, level, message, then the fields', () => {
    expect(formatLogLine(line({ msg: 'coordinator unreachable; retrying', attempt: 3 }), { utc: true })).toBe('20:41:03 WARN  coordinator unreachable; retrying  attempt=3');
    expect(formatLogLine(line({ level: 30, msg: 'connected', workerId: 'w_1' }), { utc: true })).toBe('20:41:03 INFO  connected  workerId=w_1');
    // Strings with spaces or quotes are quoted; objects compact JSON; booleans and null as such.
    expect(formatLogLine(line({ msg: 'x', err: 'connect ECONNREFUSED 127.0.0.1:4317', ok: false, why: null, r: { a: [1, 2] }, empty: '' }), { utc: true })).toBe(
      '20:41:03 WARN  x  err="connect ECONNREFUSED 127.0.0.1:4317" ok=false why=null r={"a":[1,2]} empty=""',
    );
  });

  it('an error object shows its message, and its stack below at level error', () => {
    const err = { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (a.ts:1:2)\n    at g (b.ts:3:4)' };
    expect(formatLogLine(line({ level: 50, msg: 'trial failed', err }), { utc: true })).toBe('20:41:03 ERROR trial failed  err=boom\n    at f (a.ts:1:2)\n    at g (b.ts:3:4)');
    expect(formatLogLine(line({ level: 40, msg: 'socket error', err }), { utc: true })).toBe('20:41:03 WARN  socket error  err=boom');
  });

  it('colours the level and field names only when asked', () => {
    const plain = formatLogLine(line({ msg: 'm', k: 1 }), { utc: true });
    expect(plain).not.toContain('\x1b');
    expect(formatLogLine(line({ msg: 'm', k: 1 }), { utc: true, color: true })).toBe('20:41:03 \x1b[33mWARN\x1b[0m  m  \x1b[2mk\x1b[0m=1');
  });

  it('hostile values from the network are made visible, never passed to the terminal', () => {
    const text = formatLogLine(line({ msg: 'worker connected \x1b[2J', name: '\x1b]0;owned\x07evil\u202eexe', host: 'a\rb', 'k\x1b[31m': 'v' }), { utc: true, color: true });
    // Only our own colour codes remain (ESC [ digits m).
    expect(text.replace(/\x1b\[\d+m/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(text).toContain('worker connected \\u001b[2J');
    expect(text).toContain('\\u001b]0;owned\\u0007evil\\u202eexe');
  });

  it('a line that is not JSON passes through, made safe', () => {
    expect(formatLogLine('plain \x1b[31mtext\n')).toBe('plain \\u001b[31mtext');
  });
});

describe('choosing the log format', () => {
  it('auto: readable lines on a terminal, JSON elsewhere; pretty and json force', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
    expect(resolveLogFormat('json', true)).toBe('json');
  });

  const capture = (isTTY: boolean): LogStream & { text: string } => {
    const s = { text: '', isTTY, write: (c: string) => (s.text += c) };
    return s;
  };

  it('a logger writes what was chosen, and JSON stays JSON with hostile strings escaped', () => {
    const tty = capture(true);
    cliLogger({ level: 'info', format: 'auto', stream: tty, color: false }).logger.warn({ attempt: 3 }, 'coordinator unreachable; retrying');
    expect(tty.text).toMatch(/^\r\x1b\[2K\d\d:\d\d:\d\d WARN {2}coordinator unreachable; retrying {2}attempt=3\n$/);

    const pipe = capture(false);
    const { logger, format } = cliLogger({ level: 'info', format: 'auto', stream: pipe });
    expect(format).toBe('json');
    logger.warn({ name: 'evil\u202eexe\x9b2J' }, 'worker connected');
    const rec = JSON.parse(pipe.text);
    expect(rec).toMatchObject({ level: 40, msg: 'worker connected', name: 'evil\u202eexe\x9b2J' });
    expect(pipe.text).not.toMatch(/[\u0080-\u009f\u202e]/);

    const forced = capture(false);
    cliLogger({ level: 'info', format: 'pretty', stream: forced }).logger.info('hello');
    expect(forced.text).toMatch(/^\d\d:\d\d:\d\d INFO {2}hello\n$/);
  });
});
