// Test helpers for every team: a throwaway PostgreSQL server, an in-memory migrated PGlite,
// whole checkpoints stored and read in one call (the coordinator streams them chunk by chunk), and
// trials of a pruned sweep stopped, paused and promoted through the store's own pruning writes.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Db, type OpenDatabaseOptions, openDatabase } from './database.ts';
import { ARTIFACT_CHUNK_BYTES, type ArtifactStore } from './artifact-store.ts';
import type { PruneVerdict } from '@lmsweep/protocol';
import type { TrialStore } from './trial-store.ts';

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth). */
  url: string;
  port: number;
  /** Creates an empty database on the server and returns its URL (name: random unless given). */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (immediate) and removes its data directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Directory holding initdb and pg_ctl (default: found under /usr/lib/postgresql/<ver>/bin, pg_config, or PATH). */
  binDir?: string;
  /**
   * One more IPv4 address to listen on (an interface of this host, e.g. a veth into a test's
   * network namespace), trusting clients in its /24; the URLs still name 127.0.0.1.
   */
  alsoListen?: string;
}

const INSTALL_HINT = 'install PostgreSQL (Debian/Ubuntu: `apt-get install -y postgresql`) or pass binDir';

/** Finds a directory with both initdb and pg_ctl. */
export function findPostgresBin(binDir?: string): string {
  const ok = (d: string) => existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'pg_ctl'));
  if (binDir) {
    if (!ok(binDir)) throw new Error(`no initdb/pg_ctl in ${binDir}: ${INSTALL_HINT}`);
    return binDir;
  }
  const candidates: string[] = [];
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => path.join(debian, v, 'bin')));
  }
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config
  }
  candidates.push(...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean));
  candidates.push('/usr/local/pgsql/bin', '/usr/local/bin', '/opt/homebrew/bin');
  const found = candidates.find(ok);
  if (!found) throw new Error(`PostgreSQL server binaries (initdb, pg_ctl) not found: ${INSTALL_HINT}`);
  return found;
}

function postgresUser(): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, and PostgreSQL refuses to run as root: there is no `postgres` user (apt-get install postgresql creates it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** A TCP port free on 127.0.0.1 just now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function run(file: string, args: string[], opts: { cwd: string; user: { uid: number; gid: number } | null }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}), env: { ...process.env, LC_ALL: 'C' }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${path.basename(file)} failed: ${err.message}\n${stderr || stdout}`));
        else resolve(stdout);
      },
    );
  });
}

/**
 * Starts a throwaway PostgreSQL server: initdb on a fresh temp data dir, pg_ctl start on
 * 127.0.0.1 and a free port, trust auth, durability off (fsync, synchronous_commit) for speed.
 * Runs as the `postgres` OS user when the process is root. Call stop() at the end (it is also
 * stopped when the process exits).
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<TestPostgres> {
  const bin = findPostgresBin(opts.binDir);
  const user = postgresUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, 'data');
  const pgCtl = path.join(bin, 'pg_ctl');
  const cleanupDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    await run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { cwd: dir, user });
  } catch (e) {
    cleanupDir();
    throw e;
  }
  if (opts.alsoListen !== undefined) {
    if (!net.isIP(opts.alsoListen)) throw new Error(`alsoListen: not an IP address: ${opts.alsoListen}`);
    if (!net.isIPv4(opts.alsoListen)) throw new Error(`alsoListen: an IPv4 address, got ${opts.alsoListen}`);
    const subnet = `${opts.alsoListen.split('.').slice(0, 3).join('.')}.0/24`;
    appendFileSync(path.join(data, 'pg_hba.conf'), `\nhost all all ${subnet} trust\n`);
  }

  let port = 0;
  let lastError: unknown;
  for (let i = 0; i < 5 && !port; i++) {
    const p = await freePort();
    const serverOpts = [
      `-p ${p}`,
      `-c listen_addresses=127.0.0.1${opts.alsoListen ? `,${opts.alsoListen}` : ''}`,
      `-c unix_socket_directories=${dir}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    try {
      await run(pgCtl, ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', serverOpts, 'start'], { cwd: dir, user });
      port = p;
    } catch (e) {
      lastError = e;
    }
  }
  if (!port) {
    let log = '';
    try {
      log = readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-2000);
    } catch {
      // no log
    }
    cleanupDir();
    throw new Error(`PostgreSQL did not start: ${(lastError as Error)?.message}\n${log}`);
  }

  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    try {
      execFileSync(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop'], { cwd: dir, stdio: 'ignore', ...(user ? { uid: user.uid, gid: user.gid } : {}) });
    } catch {
      // already gone
    }
    cleanupDir();
  };
  process.once('exit', stopSync);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let dbCounter = 0;
  return {
    url,
    port,
    async createDatabase(name?: string) {
      const db = name ?? `t_${process.pid}_${Date.now().toString(36)}_${dbCounter++}`;
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(db)) throw new Error(`bad database name ${db}`);
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${db}`;
    },
    async stop() {
      if (stopped) return;
      process.removeListener('exit', stopSync);
      stopped = true;
      try {
        await run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop'], { cwd: dir, user });
      } catch {
        // already gone
      }
      cleanupDir();
    },
  };
}

/** An opened, migrated in-memory PGlite Db (≈1 s: share one per test file where you can). */
export function memoryDb(opts: Omit<OpenDatabaseOptions, 'url'> = {}): Promise<Db> {
  return openDatabase({ ...opts, url: 'memory://' });
}

/** A stored artifact with its bytes. */
export interface Artifact {
  trialId: string;
  name: string;
  attempt: number;
  sha256: string;
  size: number;
  data: Uint8Array;
}

const artifactsOf = (store: TrialStore | ArtifactStore): ArtifactStore => ('artifacts' in store ? store.artifacts : store);

/**
 * Stores a whole artifact held in memory, chunked as a streamed upload is, with its sha256
 * (`digest` when the caller has it). 'lost': the lease is not this worker's (nothing stored).
 */
export async function putArtifact(
  store: TrialStore | ArtifactStore,
  trialId: string,
  workerId: string,
  attempt: number,
  name: string,
  data: Uint8Array,
  opts: { digest?: string; chunkBytes?: number } = {},
): Promise<{ status: 'ok'; sha256: string } | { status: 'lost' }> {
  const a = artifactsOf(store);
  const sha256 = opts.digest ?? createHash('sha256').update(data).digest('hex');
  const step = opts.chunkBytes ?? ARTIFACT_CHUNK_BYTES;
  const u = a.newUpload(trialId, workerId, attempt);
  let chunks = 0;
  for (let off = 0; off < data.length || chunks === 0; off += step, chunks++) {
    if (!(await a.putChunk(u, chunks, data.subarray(off, off + step)))) {
      await a.discard(u);
      return { status: 'lost' };
    }
  }
  if ((await a.finish(u, name, { sha256, size: data.length, chunks })) === 'lost') {
    await a.discard(u);
    return { status: 'lost' };
  }
  return { status: 'ok', sha256 };
}

/** A trial's whole artifact in memory, or null. */
export async function getArtifact(store: TrialStore | ArtifactStore, trialId: string, name: string): Promise<Artifact | null> {
  const a = artifactsOf(store);
  const info = await a.info(trialId, name);
  if (!info) return null;
  const parts: Uint8Array[] = [];
  for await (const p of a.read(info)) parts.push(p);
  return { trialId: info.trialId, name: info.name, attempt: info.attempt, sha256: info.sha256, size: info.size, data: new Uint8Array(Buffer.concat(parts, info.size)) };
}

/** Where a running trial (claimed by `workerId`, attempt `attempt`) is stopped or paused by a scripted verdict. */
export interface PruneAt {
  workerId: string;
  attempt: number;
  /** The validation point judged. */
  step: number;
  value: number;
  /** Default 0; null as the median pruner says. */
  rung?: number | null;
  threshold?: number | null;
  reason?: string;
  /** Validation points reported before it (valid_ppl), stored with it by addMetrics. */
  before?: { step: number; value: number }[];
}

function verdictOf(action: 'stop' | 'pause', at: PruneAt): PruneVerdict & { action: 'stop' | 'pause' } {
  return {
    action,
    step: at.step,
    rung: at.rung === undefined ? 0 : at.rung,
    value: at.value,
    threshold: at.threshold === undefined ? null : at.threshold,
    reason: at.reason ?? (action === 'stop' ? `stopped at step ${at.step} (scripted)` : `paused at step ${at.step} (scripted)`),
  };
}

const validPoints = (points: { step: number; value: number }[]) => points.map((p) => ({ step: p.step, epoch: p.step / 100, name: 'valid_ppl', value: p.value }));

async function judged(store: TrialStore, trialId: string, action: 'stop' | 'pause', at: PruneAt): Promise<PruneVerdict> {
  if (!(await store.addMetrics(trialId, at.workerId, at.attempt, validPoints([...(at.before ?? []), { step: at.step, value: at.value }])))) throw new Error(`trial ${trialId}: not running under ${at.workerId}'s lease, attempt ${at.attempt}`);
  const verdict = verdictOf(action, at);
  const out = await store.judgeReport({ trialId, workerId: at.workerId, attempt: at.attempt, step: at.step, value: at.value }, () => ({ verdict }));
  if (out === 'lost') throw new Error(`trial ${trialId}: the verdict found its lease lost`);
  return out.verdict;
}

/**
 * Prunes a running trial at a validation point, as the coordinator does on a `stop` verdict: its
 * points stored, then judgeReport with a judge that says stop (the trial becomes pruned with its
 * steps, rung, last value and the verdict). Returns the verdict.
 */
export function stopTrialAt(store: TrialStore, trialId: string, at: PruneAt): Promise<PruneVerdict> {
  return judged(store, trialId, 'stop', at);
}

/**
 * Pauses a running trial at a validation point, as a worker told to pause does: judgeReport with a
 * `pause` verdict, its resume checkpoint (resume-<attempt>) uploaded, then pauseTrial (paused, the
 * segment recorded). Nothing is promoted or closed. Returns the verdict.
 */
export async function pauseTrialAt(store: TrialStore, trialId: string, at: PruneAt & { seconds?: number }): Promise<PruneVerdict> {
  const verdict = await judged(store, trialId, 'pause', at);
  const put = await putArtifact(store, trialId, at.workerId, at.attempt, `resume-${at.attempt}`, new Uint8Array([at.attempt, at.step & 0xff]));
  if (put.status !== 'ok') throw new Error(`trial ${trialId}: its resume checkpoint was refused`);
  const out = await store.pauseTrial({ trialId, workerId: at.workerId, attempt: at.attempt, step: at.step, sha256: put.sha256, seconds: at.seconds ?? 1 }, () => ({}));
  if (out.outcome !== 'ok') throw new Error(`trial ${trialId}: pauseTrial said ${out.outcome}`);
  return verdict;
}

/** Promotes a paused trial (queued again to resume from its checkpoint) through the store's pruning step. */
export async function promoteTrial(store: TrialStore, sweepId: string, trialId: string, reason = 'promoted (scripted)'): Promise<void> {
  const out = await store.pruneStep(sweepId, () => ({ promote: [{ trialId, reason }] }));
  if (!out?.promoted.includes(trialId)) throw new Error(`trial ${trialId} was not promoted (is it paused?)`);
}

/**
 * Every trial of a grid over `model.hidden` and `training.lr` finished in bulk, as trained trials
 * would leave them but in two statements (benchmarks and tests of 10,000-trial sweeps): perplexity
 * falls with the width and is best at lr 0.01, seeds add ±2; five validation points each, on
 * steps 100…500, finishing one second apart in trial order.
 */
export async function finishGridInBulk(store: TrialStore, sweepId: string): Promise<void> {
  await store.prisma.$executeRaw`
    UPDATE "Trial" SET status = 'succeeded', attempt = 1, steps = 500, seconds = 10, progress = 1,
      params = 300 * 16 + 4 * (config->'model'->>'hidden')::int * ((config->'model'->>'hidden')::int + 8),
      "validPpl" = 100 + 15 * abs(log((config->'training'->>'lr')::float8) + 2) + 600 / (config->'model'->>'hidden')::float8 + (seed % 5) - 2,
      "testPpl" = 97 + 15 * abs(log((config->'training'->>'lr')::float8) + 2) + 600 / (config->'model'->>'hidden')::float8 + (seed % 5) - 2,
      "startedAt" = now(), "finishedAt" = now() + ordinal * interval '1 second'
    WHERE "sweepId" = ${sweepId}`;
  await store.prisma.$executeRaw`
    INSERT INTO "TrialMetric" ("trialId", attempt, name, step, epoch, value, time)
    SELECT t.id, 1, 'valid_ppl', s * 100, s * 0.1, t."validPpl" * (1 + 2.0 / s), now()
    FROM "Trial" t, generate_series(1, 5) s WHERE t."sweepId" = ${sweepId}`;
  await store.refreshSweepStatus(sweepId);
}
