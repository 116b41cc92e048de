// `npm start`: a coordinator on the embedded database, one local worker, the dashboard, and the
// demo sweep; prints the leaderboard when the sweep ends and writes its report (lmsweep report).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_COORDINATOR_PORT, DEFAULT_DASHBOARD_PORT, variedKeys } from '@lmsweep/protocol';
import { startCoordinator } from '@lmsweep/coordinator';
import { apiClient } from './client.ts';
import { renderLeaderboard } from './leaderboard-table.ts';
import { cliLogger } from './logging.ts';
import type { LogFormatFlag } from './log-format.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'tools/cli/bin/lmsweep.js');

export interface DemoOptions {
  port?: number;
  dashboardPort?: number;
  spec?: string;
  dashboard: boolean;
  exitWhenDone: boolean;
  databaseUrl?: string;
  /** Log lines of the coordinator and the worker (stderr): see log-format.ts. */
  log?: LogFormatFlag;
  /** Log level (default warn). */
  logLevel?: string;
  /** Where the report goes at the end (a directory per sweep under it; default .lmsweep/reports). */
  reportDir?: string;
  out: (s: string) => void;
}

export async function runDemo(o: DemoOptions): Promise<number> {
  const { logger: log, format } = cliLogger({ level: o.logLevel ?? 'warn', format: o.log ?? 'auto', stream: process.stderr });
  const coordinator = await startCoordinator({ port: o.port ?? DEFAULT_COORDINATOR_PORT, databaseUrl: o.databaseUrl, log });
  o.out(`coordinator  ${coordinator.url}  (${coordinator.db.target.kind === 'pglite' ? `embedded PGlite at ${coordinator.db.target.dataDir}` : 'PostgreSQL'})`);

  const children: ChildProcess[] = [];
  let dashboard: { url: string; close(): Promise<void> } | null = null;
  const shutdown = async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    await dashboard?.close();
    await coordinator.close();
  };

  try {
    if (o.dashboard) {
      const { ensureDashboardBuilt, isDashboardBuildFresh, startDashboard } = await import('@lmsweep/dashboard/build');
      if (!isDashboardBuildFresh()) o.out('dashboard    building it first (next build, about 30 s; only when its sources change)…');
      await ensureDashboardBuilt();
      // Loopback only, no API token: this machine's user launches without signing in.
      dashboard = await startDashboard({ port: o.dashboardPort ?? DEFAULT_DASHBOARD_PORT, coordinatorUrl: coordinator.url, hostname: '127.0.0.1' });
      o.out(`dashboard    ${dashboard.url}`);
    }

    const worker = spawn(process.execPath, [BIN, 'worker', '--coordinator', coordinator.url, '--name', 'local-worker', '--log', format], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, LMSWEEP_LOG_LEVEL: o.logLevel ?? 'warn' },
    });
    children.push(worker);

    const specFile = o.spec ?? path.join(ROOT, 'examples/demo.yaml');
    const api = apiClient(coordinator.url);
    const sweep = await api.sweeps.create.mutate({ spec: readFileSync(specFile, 'utf8') });
    o.out(`sweep        "${sweep.name}" (${sweep.id}), ${sweep.trials} trials from ${path.relative(process.cwd(), specFile) || specFile}`);
    if (dashboard) o.out(`watch it     ${dashboard.url}/sweeps/${sweep.id}   leaderboard: ${dashboard.url}/leaderboard?sweep=${sweep.id}`);
    o.out('Ctrl-C stops everything; the database keeps the results (lmsweep trials / leaderboard).');

    let interrupted = false;
    const onSig = () => (interrupted = true);
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
    while (!interrupted) {
      const s = await api.sweeps.get.query({ id: sweep.id });
      if (s.status !== 'running') {
        o.out(`\nsweep ${s.status}. Leaderboard (configurations over seeds; ★ = Pareto front on parameters × validation perplexity):\n`);
        o.out(renderLeaderboard(await api.leaderboard.list.query({ sweepId: sweep.id, sort: 'pareto' }), { prefer: variedKeys(s.spec) }));
        const { writeReport } = await import('./report/write.ts');
        const report = await writeReport({ url: coordinator.url, sweepId: sweep.id, format: 'html', dir: path.join(o.reportDir ?? '.lmsweep/reports', sweep.id) });
        o.out(`\nreport       ${report.files[0]}  (paired comparisons by seed with intervals; lmsweep report ${sweep.id} --format md for Markdown)`);
        break;
      }
      if (worker.exitCode !== null) throw new Error(`the local worker exited with code ${worker.exitCode}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (!o.exitWhenDone && !interrupted && dashboard) {
      o.out(`\nThe dashboard stays up at ${dashboard.url}: Ctrl-C to stop.`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return 0;
  } finally {
    await shutdown();
  }
}
