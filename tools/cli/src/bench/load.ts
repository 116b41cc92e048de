// `lmsweep bench load [--workers N] [--trials M] [--no-postgres] [--in-process] [--json]`:
// simulated workers (real websocket clients that claim, heartbeat, report a metric and complete
// at once; in a child process of their own unless --in-process) against a coordinator on
// loopback, on PGlite and, when its binaries are installed, on a throwaway PostgreSQL server.
// Reports claims/s, completions/s, p50/p99 claim latency, the coordinator process's memory, and
// the dashboard's leaderboard query over the finished trials; Optuna beside it (load-optuna.py).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SweepSpec, TrialResult } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { startCoordinator, type Coordinator } from '@lmsweep/coordinator';
import { apiClient } from '../client.ts';
import { parseOptions } from '../options.ts';
import { LOAD_BENCH } from './options.ts';
import { withBenchPostgres } from './bench-postgres.ts';
import { runJsonChild } from './child.ts';
import { type ClaimLatency, claimLatency } from './load-claims.ts';
import { SimWorker } from './sim-worker.ts';

export interface LoadBenchContext {
  json: boolean;
  out: (line: string) => void;
  args: string[];
}

/** Largest sweep the spec allows; more trials are split over several sweeps. */
const SWEEP_MAX = 10_000;

const RESULT: TrialResult = { params: 1000, paramsByLayer: { all: 1000 }, validPpl: 100, testPpl: 101, steps: 1, tokens: 1, seconds: 0, tokensPerSecond: 0, vocabSize: 10, backend: 'bench' };

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);

async function queueTrials(c: Coordinator, trials: number): Promise<void> {
  for (let left = trials, i = 0; left > 0; left -= SWEEP_MAX, i++) {
    const n = Math.min(SWEEP_MAX, left);
    // A grid list holds at most 1,000 values: learning rates × seeds, cut to exactly n trials.
    const l = Math.min(n, 1_000);
    const lrs = Array.from({ length: l }, (_, k) => Number((0.001 * (k + 1)).toFixed(3)));
    const spec: SweepSpec = parseSweepSpec({ name: `load-${i}`, dataset: { name: 'ptb', vocabSize: 10 }, grid: { 'training.lr': lrs }, seeds: Math.ceil(n / l) });
    await c.store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec).slice(0, n) });
  }
}

interface LoadResult {
  database: string;
  workers: number;
  /** 'closed' (back to back until the queue is empty) or the offered claim rate of a paced run. */
  offered: string;
  trials: number;
  completed: number;
  seconds: number;
  claimsPerSecond: number;
  completionsPerSecond: number;
  claimP50Ms: number;
  claimP99Ms: number;
  rssMiB: number;
  leaderboardMs: number;
}

/** What the simulated workers measured. */
export interface DriveResult {
  claims: number;
  completed: number;
  seconds: number;
  /** Claim round trips in ms, sorted. */
  latencies: number[];
}

/** How the simulated workers pace themselves. */
export interface Pacing {
  /**
   * Mean time a simulated trial takes, ms (each draws it uniformly from ±50% around the mean,
   * and starts after a random share of one): the offered load is then about workers / thinkMs
   * claims a second, as from a fleet whose trials take that long. 0: closed loop, back to back.
   */
  thinkMs: number;
  /** Stop claiming after this many seconds (0: when the queue is empty). */
  seconds: number;
}

/**
 * `workers` simulated workers against a coordinator: each claims, heartbeats, reports one
 * metric and completes, one request in flight at a time; back to back until the queue is empty
 * (closed loop: the coordinator's saturated throughput, and latency is queueing by Little's law),
 * or paced (open loop: latency at a given offered load, what a fleet with real trials sees).
 */
export async function driveWorkers(url: string, workers: number, pacing: Pacing = { thinkMs: 0, seconds: 0 }): Promise<DriveResult> {
  const sims = await Promise.all(Array.from({ length: workers }, (_, i) => SimWorker.connect(url, `sim-${i}`)));
  const latencies: number[] = [];
  let completed = 0;
  let claims = 0;
  const t0 = performance.now();
  const deadline = pacing.seconds > 0 ? t0 + pacing.seconds * 1000 : Infinity;
  const think = (share = 1) => (pacing.thinkMs > 0 ? new Promise((r) => setTimeout(r, pacing.thinkMs * share * (0.5 + Math.random()))) : undefined);
  await Promise.all(
    sims.map(async (w) => {
      if (pacing.thinkMs > 0) await new Promise((r) => setTimeout(r, pacing.thinkMs * Math.random()));
      while (performance.now() < deadline) {
        const s = performance.now();
        const r = await w.request({ type: 'claim' });
        latencies.push(performance.now() - s);
        claims++;
        if (r.type !== 'assign') return; // the queue is empty: trials were all queued up front
        const base = { trialId: r.trial.id, attempt: r.trial.attempt };
        w.send({ type: 'heartbeat', ...base, progress: 0.5 });
        await think(0.5);
        await w.request({ type: 'metric', ...base, points: [{ step: 1, epoch: 0, name: 'train_loss', value: 4.2 }] });
        await think(0.5);
        const ack = await w.request({ type: 'complete', ...base, result: RESULT });
        if (ack.type === 'ack' && !ack.duplicate) completed++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const w of sims) w.close();
  return { claims, completed, seconds, latencies: latencies.sort((a, b) => a - b) };
}

const SIM_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'load-sim.ts');

/** driveWorkers in a child process of its own (load-sim.ts), so the coordinator's process and its measurements are its alone. */
function driveInChild(url: string, workers: number, pacing: Pacing): Promise<DriveResult> {
  return runJsonChild<DriveResult>(SIM_SCRIPT, [url, String(workers), String(pacing.thinkMs), String(pacing.seconds)]);
}

async function runOnce(database: string, databaseUrl: string, workers: number, trials: number, inProcess: boolean, rate?: number, seconds = 20): Promise<LoadResult> {
  const c = await startCoordinator({ port: 0, databaseUrl, leaseMs: 60_000 });
  // paced: trials of workers/rate seconds each, for `seconds`, with enough trials queued for it
  const pacing: Pacing = rate ? { thinkMs: (workers / rate) * 1000, seconds } : { thinkMs: 0, seconds: 0 };
  try {
    const queued = rate ? Math.ceil(rate * seconds * 1.5) + workers : trials;
    await queueTrials(c, queued);
    let peakRss = process.memoryUsage().rss;
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
    const r = inProcess ? await driveWorkers(c.url, workers, pacing) : await driveInChild(c.url, workers, pacing);
    clearInterval(rssTimer);
    // The dashboard's leaderboard call over every finished trial, once the simulated workers are
    // gone: the better of two calls (the first may still pay for closing 1,000 sockets).
    let leaderboardMs = Infinity;
    for (let i = 0; i < 2; i++) {
      const l0 = performance.now();
      await apiClient(c.url).leaderboard.list.query({ sort: 'pareto' });
      leaderboardMs = Math.min(leaderboardMs, performance.now() - l0);
    }
    return {
      database,
      workers,
      offered: rate ? `${rate}/s` : 'closed',
      trials: queued,
      completed: r.completed,
      seconds: Number(r.seconds.toFixed(2)),
      claimsPerSecond: Math.round(r.claims / r.seconds),
      completionsPerSecond: Math.round(r.completed / r.seconds),
      claimP50Ms: Number(quantile(r.latencies, 0.5).toFixed(1)),
      claimP99Ms: Number(quantile(r.latencies, 0.99).toFixed(1)),
      rssMiB: Math.round(peakRss / 2 ** 20),
      leaderboardMs: Math.round(leaderboardMs),
    };
  } finally {
    await c.close();
  }
}

interface OptunaResult {
  optuna: string;
  processes: number;
  trials: number;
  seconds: number;
  trialsPerSecond: number;
}

const OPTUNA_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'load-optuna.py');
const PYTHON = '/usr/bin/python3';
/** Optuna's processes each hold database connections: the throwaway server allows 200. */
const OPTUNA_MAX_PROCESSES = 64;

/** Optuna ask/tell with an instant objective on the same PostgreSQL server; null (with why) when it cannot run. */
function runOptuna(url: string, processes: number, trials: number): OptunaResult | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  try {
    const sqlalchemyUrl = url.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://');
    const out = execFileSync(PYTHON, [OPTUNA_SCRIPT, sqlalchemyUrl, String(processes), String(trials)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30 * 60_000 });
    return JSON.parse(out.trim().split('\n').pop()!) as OptunaResult;
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    const why = (err.stderr || err.message || String(e)).trim().split('\n').pop() ?? '';
    return /No module named '(optuna|psycopg2)'/.test(why) ? `${why} (apt-get install python3-optuna python3-psycopg2)` : why;
  }
}

export async function benchLoad(ctx: LoadBenchContext): Promise<void> {
  const { values } = parseOptions({ options: LOAD_BENCH.options }, ctx.args);
  const inProcess = values['in-process'];
  const { workers, trials, seconds: pacedSeconds } = values;
  const rates = values.rates !== undefined ? values.rates.split(',').map((r) => {
    const n = Number(r);
    if (!(n > 0)) throw new Error(`--rates: "${r}" is not a positive number of claims per second`);
    return n;
  }) : [];
  const { queued, 'queued-sweeps': queuedSweeps } = values;
  const results: LoadResult[] = [];
  const claims: ClaimLatency[] = [];
  // (Assigned in a callback: the cast keeps TypeScript from narrowing it to the string.)
  let optuna = 'PostgreSQL not run' as OptunaResult | string;
  // The closed loop, then each paced rate (a fresh coordinator and database each).
  const runAll = async (database: string, url: () => Promise<string>) => {
    results.push(await runOnce(database, await url(), workers, trials, inProcess));
    for (const rate of rates) results.push(await runOnce(database, await url(), workers, trials, inProcess, rate, pacedSeconds));
    if (queued > 0) claims.push(...(await claimLatency(database, await url(), queued, queuedSweeps)));
  };
  await runAll('pglite', async () => 'memory://');
  if (!values['no-postgres']) {
    await withBenchPostgres(ctx.json ? null : ctx.out, async (pg) => {
      await runAll('postgresql', () => pg.createDatabase());
      optuna = runOptuna(await pg.createDatabase(), Math.min(workers, OPTUNA_MAX_PROCESSES), Math.min(trials, 2_000));
    });
  }
  const pgRow = results.find((r) => r.database === 'postgresql' && r.offered === 'closed');
  const ratio = typeof optuna === 'object' && pgRow ? pgRow.completionsPerSecond / optuna.trialsPerSecond : null;
  if (ctx.json) {
    for (const r of results) ctx.out(JSON.stringify({ bench: 'load', ...r }));
    for (const c of claims) ctx.out(JSON.stringify({ bench: 'load', kind: 'claim', ...c }));
    ctx.out(JSON.stringify({ bench: 'load', reference: 'optuna', ...(typeof optuna === 'object' ? optuna : { error: optuna }), ratio }));
    return;
  }
  const cols: [keyof LoadResult, string][] = [
    ['database', 'database'],
    ['workers', 'workers'],
    ['offered', 'offered'],
    ['completed', 'trials done'],
    ['seconds', 'seconds'],
    ['claimsPerSecond', 'claims/s'],
    ['completionsPerSecond', 'completed/s'],
    ['claimP50Ms', 'claim p50 ms'],
    ['claimP99Ms', 'claim p99 ms'],
    ['rssMiB', 'peak RSS MiB*'],
    ['leaderboardMs', 'leaderboard ms'],
  ];
  const rows = [cols.map(([, h]) => h), ...results.map((r) => cols.map(([k]) => String(r[k])))];
  const widths = cols.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) ctx.out(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  if (rates.length) ctx.out(`offered: "closed" = back to back until the queue is empty (throughput; its latency is queueing); N/s = paced for ${pacedSeconds} s, trials of workers/N s each (latency at that load).`);
  if (claims.length) {
    ctx.out('');
    const claimCols: [keyof ClaimLatency, string][] = [
      ['database', 'database'],
      ['queued', 'queued'],
      ['sweeps', 'sweeps'],
      ['batch', 'workers per claim'],
      ['runs', 'statements'],
      ['p50Ms', 'claimMany p50 ms'],
      ['p90Ms', 'p90 ms'],
    ];
    const claimRows = [claimCols.map(([, h]) => h), ...claims.map((c) => claimCols.map(([k]) => String(c[k])))];
    const claimWidths = claimCols.map((_, i) => Math.max(...claimRows.map((r) => r[i]!.length)));
    for (const r of claimRows) ctx.out(r.map((cell, i) => (i === 0 ? cell.padEnd(claimWidths[i]!) : cell.padStart(claimWidths[i]!))).join('  '));
    ctx.out('claimMany: the claim statement alone, straight to the store (no websocket, no group commit), at that many queued trials.');
  }
  ctx.out(inProcess ? '* one process: the coordinator and the simulated workers together (--in-process).' : '* the coordinator\'s process; the simulated workers run in a child process of their own.');
  if (typeof optuna === 'object') {
    ctx.out(
      `Optuna ${optuna.optuna} (RDB storage on the same PostgreSQL server), ${optuna.processes} processes, ask/tell with an instant objective: ` +
        `${optuna.trials} trials in ${optuna.seconds.toFixed(1)} s = ${optuna.trialsPerSecond.toFixed(1)} trials/s; lmsweep on PostgreSQL completes ${ratio!.toFixed(1)}× as many per second.`,
    );
  } else ctx.out(`Optuna reference not run: ${optuna}`);
}
