// `lmsweep worker` logs readable lines on a terminal and JSON lines elsewhere (issue 11.9):
// the real bin, against a coordinator address that refuses connections, so it warns
// "coordinator unreachable; retrying". A terminal is made with util-linux's `script`.
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.resolve(import.meta.dirname, '../bin/lmsweep.js');
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A port nothing listens on. */
async function refusedUrl(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

/** Runs the command until a "coordinator unreachable" warning arrived (all output merged), then stops it. */
function untilWarned(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LMSWEEP_LOG_LEVEL: 'warn' } });
    let text = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`no warning in time:\n${text}`));
    }, 60_000);
    const on = (d: Buffer) => {
      text += d;
      if (/coordinator unreachable; retrying[^\n]*\n/.test(text) && p.exitCode === null && !p.killed) p.kill('SIGINT');
    };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.once('exit', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

const worker = (url: string, ...extra: string[]) => [BIN, 'worker', '--coordinator', url, '--backend', 'cpu', '--quiet', ...extra];
const READABLE = /^(\r\x1b\[2K)?\d\d:\d\d:\d\d (\x1b\[33m)?WARN(\x1b\[0m)? {2}coordinator unreachable; retrying {2}.*err(\x1b\[0m)?=.*ECONNREFUSED/m;

describe('worker log lines', () => {
  it('not a terminal: JSON lines; --log pretty: readable lines', async () => {
    const url = await refusedUrl();
    const [json, pretty] = await Promise.all([untilWarned(process.execPath, worker(url)), untilWarned(process.execPath, worker(url, '--log', 'pretty'))]);
    const warning = json.split('\n').find((l) => l.includes('coordinator unreachable'))!;
    expect(JSON.parse(warning)).toMatchObject({ level: 40, msg: 'coordinator unreachable; retrying' });
    expect(pretty).toMatch(READABLE);
    expect(pretty).not.toMatch(/^\{"level"/m);
  }, 120_000);

  it.skipIf(!hasScript)('on a terminal: readable lines by default, JSON with --log json', async () => {
    const url = await refusedUrl();
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const inTty = (args: string[]) => untilWarned('script', ['-qfec', [process.execPath, ...args].map(quote).join(' '), '/dev/null']);
    const [auto, json] = await Promise.all([inTty(worker(url)), inTty(worker(url, '--log', 'json'))]);
    expect(auto).toMatch(READABLE);
    expect(auto).not.toMatch(/\{"level"/);
    expect(json).toMatch(/\{"level":40,.*"msg":"coordinator unreachable; retrying"\}/);
  }, 120_000);
});
