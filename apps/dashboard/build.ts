// Build and serve the dashboard from code: the browser test and the CLI (`lmsweep demo`) use
// these instead of shelling out to `npx next …`.
//
//   await ensureDashboardBuilt();                      // next build, only when sources changed
//   const d = await startDashboard({ port: 3000, coordinatorUrl });
//   …; await d.close();
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isLoopbackName, parseAllowedHosts } from './src/server/host-check.ts';

export const DASHBOARD_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(DASHBOARD_DIR, '../..');
const BUILD_ID = path.join(DASHBOARD_DIR, '.next', 'BUILD_ID');
/** What a build depends on (besides node_modules): the dashboard's sources and config, and the lockfile. */
const INPUTS = ['app', 'src', 'public', 'proxy.ts', 'next.config.ts', 'tsconfig.json', 'package.json'].map((p) => path.join(DASHBOARD_DIR, p)).concat(path.join(REPO_ROOT, 'package-lock.json'));
const SKIP_DIRS = new Set(['node_modules', '.next', 'test', 'test-output']);

function nextBin(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('next/package.json')), 'dist', 'bin', 'next');
}

/** The newest modification time (ms) among the build's inputs; unit tests are not inputs. */
export function newestSourceMtime(paths: string[] = INPUTS): number {
  let newest = 0;
  const visit = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      if (SKIP_DIRS.has(path.basename(p))) return;
      for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    } else if (!/\.test\.tsx?$/.test(p)) {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const p of paths) visit(p);
  return newest;
}

/** Whether .next holds a finished build newer than every source file. */
export function isDashboardBuildFresh(): boolean {
  try {
    return fs.statSync(BUILD_ID).mtimeMs >= newestSourceMtime();
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A cross-process lock (a directory: mkdir is atomic), so two test files or a test and the CLI never build at once. */
async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = path.join(os.tmpdir(), `lmsweep-dashboard-build-${createHash('sha1').update(DASHBOARD_DIR).digest('hex').slice(0, 12)}.lock`);
  const staleMs = 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > staleMs) fs.rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

export interface BuildOptions {
  /** Build even when .next looks fresh. */
  force?: boolean;
  /** Receives next build's output lines (default: kept, and shown only if the build fails). */
  log?: (line: string) => void;
}

let building: Promise<void> | null = null;

/** Runs `next build apps/dashboard` when .next/BUILD_ID is missing or older than any source file (≈30 s). */
export function ensureDashboardBuilt(opts: BuildOptions = {}): Promise<void> {
  building ??= withBuildLock(async () => {
    // Another process may have built while we waited for the lock.
    if (!opts.force && isDashboardBuildFresh()) return;
    await runNext(['build', DASHBOARD_DIR], opts.log);
    if (!fs.existsSync(BUILD_ID)) throw new Error(`next build finished but ${BUILD_ID} is missing`);
  }).finally(() => {
    building = null;
  });
  return building;
}

function runNext(args: string[], log?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nextBin(), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const onData = (buf: Buffer) => {
      for (const line of buf.toString().split('\n')) {
        if (!line.trim()) continue;
        log?.(line);
        tail.push(line);
        if (tail.length > 60) tail.shift();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`next ${args[0]} failed (${signal ?? `exit ${code}`}):\n${tail.join('\n')}`));
    });
  });
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface DashboardOptions {
  /** 0 picks a free port. */
  port: number;
  /** The coordinator the dashboard's /trpc proxy forwards to (LMSWEEP_URL). */
  coordinatorUrl: string;
  /**
   * Interface to listen on (default 127.0.0.1). Any other (0.0.0.0: every interface) needs
   * `apiToken`, so that people reaching it over the network sign in before they launch, and
   * `allowedHosts` naming it as they reach it.
   */
  hostname?: string;
  /** The coordinator's API token (LMSWEEP_API_TOKEN there): the dashboard then asks for sign-in before launching or cancelling. */
  apiToken?: string;
  /** Host names (optionally with :port) the dashboard answers to besides loopback ones (LMSWEEP_DASHBOARD_HOSTS). */
  allowedHosts?: string[];
  /** Receives next start's output lines. */
  log?: (line: string) => void;
  /** How long to wait for the server to answer (default 60 s). */
  readyTimeoutMs?: number;
}

export interface RunningDashboard {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The server's environment: ours, with its own settings from the options alone (never inherited from this process). */
function dashboardProcessEnv(coordinatorUrl: string, apiToken: string | undefined, allowedHosts: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', LMSWEEP_URL: coordinatorUrl };
  delete env.LMSWEEP_API_TOKEN;
  delete env.LMSWEEP_DASHBOARD_HOSTS;
  if (apiToken) env.LMSWEEP_API_TOKEN = apiToken;
  if (allowedHosts.length) env.LMSWEEP_DASHBOARD_HOSTS = allowedHosts.join(',');
  return env;
}

/** Starts `next start` on a built dashboard (see ensureDashboardBuilt) and waits until it answers. */
export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  if (!fs.existsSync(BUILD_ID)) throw new Error('the dashboard is not built: call ensureDashboardBuilt() first');
  const hostname = opts.hostname ?? '127.0.0.1';
  if (!isLoopbackName(hostname) && !opts.apiToken) {
    throw new Error(`refusing to serve the dashboard on ${hostname} without an API token: anyone who reaches it could launch and cancel sweeps. Pass the coordinator's API token, or bind 127.0.0.1.`);
  }
  const allowedHosts = parseAllowedHosts((opts.allowedHosts ?? []).join(','));
  const port = opts.port || (await freePort(hostname));
  const urlHost = hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname.includes(':') ? `[${hostname}]` : hostname;
  const url = `http://${urlHost}:${port}`;

  const child: ChildProcess = spawn(process.execPath, [nextBin(), 'start', DASHBOARD_DIR, '-p', String(port), '-H', hostname], {
    cwd: REPO_ROOT,
    env: dashboardProcessEnv(opts.coordinatorUrl, opts.apiToken, allowedHosts),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const onData = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) {
      if (!line.trim()) continue;
      opts.log?.(line);
      tail.push(line);
      if (tail.length > 40) tail.shift();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  // Never leave a server behind when this process ends without calling close().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const close = async () => {
    process.removeListener('exit', killOnExit);
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      const e = exited as { code: number | null; signal: NodeJS.Signals | null };
      process.removeListener('exit', killOnExit);
      throw new Error(`next start exited (${e.signal ?? `exit ${e.code}`}) before answering:\n${tail.join('\n')}`);
    }
    try {
      const res = await fetch(`${url}/icon.svg`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`the dashboard did not answer on ${url} within ${opts.readyTimeoutMs ?? 60_000} ms:\n${tail.join('\n')}`);
    }
    await sleep(200);
  }
  return { url, port, close };
}
