// `--help` does no work: the real `lmsweep` bin, for every command and benchmark, prints its
// usage and exits 0 without connecting anywhere (a listening socket counts every connection
// attempt), opening a database (no .lmsweep directory appears in its working directory) or
// starting a worker (it returns at all: a worker would run until stopped). An unknown flag is
// refused with exit 2, naming it, equally without side effects.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyCommand } from '../src/command.ts';
import { COMMANDS } from '../src/commands/index.ts';
import type { Options } from '../src/options.ts';
import { flagText } from '../src/usage.ts';

const BIN = path.resolve(import.meta.dirname, '../bin/lmsweep.js');
let server: net.Server;
let connections = 0;
let url = '';
let cwd = '';

beforeAll(async () => {
  server = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  cwd = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-help-'));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(cwd, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The bin in an empty directory, every coordinator address pointing at the counting socket. */
function lmsweep(args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, LMSWEEP_URL: url, LMSWEEP_PORT: url.split(':').pop()!, LMSWEEP_LOG_LEVEL: 'info' };
  delete env.DATABASE_URL;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env, timeout: 90_000 }, (e, stdout, stderr) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

/** At most `n` at a time (two cores, shared). */
async function limited<T, R>(items: T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  }));
  return out;
}

const paths = (cs: readonly AnyCommand[], prefix: string[] = []): [string[], AnyCommand][] => cs.flatMap((c) => [[[...prefix, c.name], c] as [string[], AnyCommand], ...paths(c.subcommands ?? [], [...prefix, c.name])]);

const nothingHappened = () => {
  expect(connections).toBe(0);
  expect(existsSync(path.join(cwd, '.lmsweep'))).toBe(false);
  expect(readdirSync(cwd)).toEqual([]);
};

describe('lmsweep --help', () => {
  it('every command and benchmark: its usage and options, exit 0, and nothing else happens', async () => {
    const all = paths(COMMANDS);
    expect(all.map(([p]) => p.join(' '))).toEqual(expect.arrayContaining(['worker', 'coordinator', 'demo', 'leaderboard', 'bench', 'bench train', 'bench load', 'bench prune', 'compress']));
    const runs = await limited(all, 3, ([p]) => lmsweep([...p, p.length % 2 ? '--help' : '-h']));
    all.forEach(([p, c], i) => {
      const r = runs[i]!;
      const name = `lmsweep ${p.join(' ')}`;
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stderr, name).toBe('');
      expect(r.stdout.split('\n')[0], name).toMatch(new RegExp(`^usage: ${name}\\b`));
      for (const [flag, o] of Object.entries(c.options as Options)) expect(r.stdout, `${name} ${flag}`).toContain(flagText(flag, o));
    });
    // The worker's help shows its defaults.
    const worker = runs[all.findIndex(([p]) => p.join(' ') === 'worker')]!.stdout.replace(/\s+/g, ' ');
    expect(worker).toMatch(/--backend BACKEND .*default: auto/);
    expect(worker).toContain(`default: http://127.0.0.1:4317; env LMSWEEP_URL`);
    nothingHappened();
  }, 300_000);

  it('lmsweep --help and lmsweep help list the commands; lmsweep help X is X --help; no command: exit 2', async () => {
    const [top, help, helpWorker, none] = await limited([['--help'], ['help'], ['help', 'worker'], []], 2, lmsweep);
    for (const r of [top!, help!]) {
      expect(r.code).toBe(0);
      for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c.name} `, 'm'));
    }
    expect(helpWorker!.code).toBe(0);
    expect(helpWorker!.stdout).toMatch(/^usage: lmsweep worker \[options\]/);
    expect(none!.code).toBe(2);
    expect(none!.stderr).toMatch(/^usage: lmsweep COMMAND/m);
    nothingHappened();
  }, 120_000);

  it('an unknown flag: exit 2 naming it, nothing done', async () => {
    const cases = [['worker'], ['coordinator'], ['demo'], ['leaderboard'], ['launch'], ['compress'], ['bench', 'train'], ['bench', 'load'], ['bench', 'prune'], ['bench', 'search']];
    const runs = await limited(cases, 3, (c) => lmsweep([...c, '--no-such-flag']));
    cases.forEach((c, i) => {
      const r = runs[i]!;
      expect(r.code, `${c.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`lmsweep ${c.join(' ')}: unknown option --no-such-flag`);
      expect(r.stdout).toBe('');
    });
    const [badValue, badBench] = await limited([['worker', '--backend', 'gpu'], ['bench', 'nope']], 2, lmsweep);
    expect(badValue!.code).toBe(2);
    expect(badValue!.stderr).toContain('--backend must be one of auto, tensorflow-gpu, tensorflow, wasm, cpu; got "gpu"');
    expect(badBench!.code).toBe(2);
    expect(badBench!.stderr).toContain('no benchmark named "nope"; available: compress, dashboard, load, phm, prune, prune-latency, search, train');
    nothingHappened();
  }, 300_000);
});
