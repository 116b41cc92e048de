// lmsweep: the command line. Every command that talks to a coordinator takes --coordinator URL
// (or LMSWEEP_URL).
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_COORDINATOR_PORT } from '@lmsweep/protocol';
import { apiClient, defaultCoordinatorUrl, defaultToken, describeApiError } from './client.ts';
import { csv, fieldCell, fmtNum, fmtParams, table, varyingFields, flatten, renderLeaderboard } from './format.ts';
import { benchmarks } from './bench.ts';

const HELP = `lmsweep — sweeps of language-model compression experiments

  lmsweep demo [--port P] [--dashboard-port P] [--spec FILE] [--no-dashboard] [--exit-when-done]
      coordinator (embedded database) + one local worker + dashboard + the demo sweep
  lmsweep coordinator [--port P] [--host H] [--database URL] [--lease-ms MS]
      tokens from $LMSWEEP_WORKER_TOKEN (workers) and $LMSWEEP_API_TOKEN (launch, cancel);
      without them it only listens on loopback
  lmsweep worker [--coordinator URL] [--backend auto|tensorflow-gpu|tensorflow|wasm|cpu] [--threads N|auto] [--native on|off] [--name N] [--max-trials N] [--exit-when-idle]
  lmsweep launch SPEC [--json]                  queue a sweep from a YAML/JSON spec; prints its id
  lmsweep sweeps [--json]
  lmsweep cancel SWEEP_ID
  lmsweep trials [--sweep ID] [--status S] [--method M] [--sort K] [--limit N] [--json|--csv]
  lmsweep leaderboard [--sweep ID] [--sort pareto|validPpl|testPpl|params] [--json]
  lmsweep workers [--json]
  lmsweep bench NAME [--json]
  lmsweep compress --method M --matrix A.npy --freq q.npy --rate R [--blocks c] [--iters t] [--tolerance x] [--json]
      compress a matrix with svd | weighted-svd | block-weighted-svd | dynamic-rank | groupreduce | all

  --coordinator URL   coordinator address (default $LMSWEEP_URL or http://127.0.0.1:${DEFAULT_COORDINATOR_PORT})
  --token T           worker token (worker) or API token (launch, cancel); default $LMSWEEP_TOKEN
  --database URL      postgres://user:pass@host:port/db, or a PGlite directory (default .lmsweep/db; $DATABASE_URL)`;

class UsageError extends Error {}

function args<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...options, coordinator: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const intFlag = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
};

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    out(HELP);
    return cmd ? 0 : 2;
  }
  switch (cmd) {
    case 'coordinator': {
      const { values } = args(rest, { port: { type: 'string' }, host: { type: 'string' }, database: { type: 'string' }, 'lease-ms': { type: 'string' } });
      const { startCoordinator, coordinatorEnv, connectionLimits } = await import('@lmsweep/coordinator');
      const pino = (await import('pino')).default;
      // A bad environment or an unsafe binding (no tokens beyond loopback) ends here with its message.
      const env = coordinatorEnv();
      const c = await startCoordinator({
        port: intFlag(values.port, 'port') ?? env.LMSWEEP_PORT,
        host: values.host ?? env.LMSWEEP_HOST,
        databaseUrl: values.database ?? env.DATABASE_URL,
        leaseMs: intFlag(values['lease-ms'], 'lease-ms'),
        log: pino({ level: env.LMSWEEP_LOG_LEVEL ?? 'info' }),
        workerToken: env.LMSWEEP_WORKER_TOKEN,
        apiToken: env.LMSWEEP_API_TOKEN,
        connectionLimits: connectionLimits(env),
      });
      out(`coordinator listening on ${c.url} (${c.db.target.kind === 'pglite' ? `PGlite ${c.db.target.dataDir}` : 'PostgreSQL'})`);
      await untilSignal();
      await c.close();
      return 0;
    }
    case 'worker': {
      const { values } = args(rest, { backend: { type: 'string' }, threads: { type: 'string' }, native: { type: 'string' }, name: { type: 'string' }, 'max-trials': { type: 'string' }, 'exit-when-idle': { type: 'boolean' }, quiet: { type: 'boolean' } });
      const backends = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
      const backend = (values.backend ?? 'auto') as (typeof backends)[number];
      if (!backends.includes(backend)) throw new UsageError(`--backend must be one of ${backends.join(', ')}`);
      // CPU threads: all cores by default (a worker machine is there to train; with the native
      // kernels 2 threads measured 1.4× one on this 2-core machine when idle), fewer when it shares them.
      const threadsFlag = values.threads ?? process.env.LMSWEEP_WASM_THREADS ?? 'auto';
      const nativeFlag = values.native ?? process.env.LMSWEEP_NATIVE ?? 'on';
      if (nativeFlag !== 'on' && nativeFlag !== 'off') throw new UsageError(`--native must be on or off, got "${nativeFlag}"`);
      const { maxUsefulWasmThreads } = await import('@lmsweep/nn');
      const wasmThreads = threadsFlag === 'auto' ? maxUsefulWasmThreads() : intFlag(threadsFlag, 'threads');
      const { startWorker } = await import('@lmsweep/worker');
      const pino = (await import('pino')).default;
      const w = await startWorker({
        coordinatorUrl: values.coordinator ?? defaultCoordinatorUrl(),
        backend,
        ...(wasmThreads ? { wasmThreads } : {}),
        native: nativeFlag === 'on',
        name: values.name,
        maxTrials: intFlag(values['max-trials'], 'max-trials'),
        exitWhenIdle: values['exit-when-idle'],
        quiet: values.quiet,
        token: values.token ?? defaultToken(),
        log: pino({ level: process.env.LMSWEEP_LOG_LEVEL ?? 'info' }, pino.destination(2)),
      });
      process.stderr.write(`worker ${w.name} on ${w.backend.backend} (${w.backend.device}) → ${values.coordinator ?? defaultCoordinatorUrl()}\n`);
      let stopping = false;
      const onSignal = () => {
        if (stopping) process.exit(130);
        stopping = true;
        process.stderr.write('\nworker stopping (a running trial goes back to the queue; Ctrl-C again to force)\n');
        void w.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      await w.done;
      return 0;
    }
    case 'launch': {
      const { values, positionals } = args(rest, { json: { type: 'boolean' } });
      const file = positionals[0];
      if (!file) throw new UsageError('launch needs a spec file: lmsweep launch examples/smoke.yaml');
      const text = readFileSync(file, 'utf8');
      const api = apiClient(values.coordinator ?? defaultCoordinatorUrl(), values.token ?? defaultToken());
      const r = await api.sweeps.create.mutate({ spec: text });
      out(values.json ? JSON.stringify(r) : r.id);
      if (!values.json) process.stderr.write(`sweep "${r.name}" queued with ${r.trials} trials\n`);
      return 0;
    }
    case 'sweeps': {
      const { values } = args(rest, { json: { type: 'boolean' }, limit: { type: 'string' } });
      const api = apiClient(values.coordinator ?? defaultCoordinatorUrl(), values.token ?? defaultToken());
      const sweeps = await api.sweeps.list.query({ limit: intFlag(values.limit, 'limit') ?? 50, offset: 0 });
      const items = Array.isArray(sweeps) ? sweeps : (sweeps as { items: unknown[] }).items;
      if (values.json) {
        for (const s of items) out(JSON.stringify(s));
        return 0;
      }
      out(
        table(
          ['id', 'name', 'status', 'trials', 'created'],
          (items as { id: string; name: string; status: string; counts?: Record<string, number>; createdAt: string | Date }[]).map((s) => [
            s.id,
            s.name,
            s.status,
            s.counts ? Object.entries(s.counts).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(', ') : '',
            new Date(s.createdAt).toISOString().replace('T', ' ').slice(0, 19),
          ]),
        ),
      );
      return 0;
    }
    case 'cancel': {
      const { values, positionals } = args(rest, {});
      if (!positionals[0]) throw new UsageError('cancel needs a sweep id');
      const r = await apiClient(values.coordinator ?? defaultCoordinatorUrl(), values.token ?? defaultToken()).sweeps.cancel.mutate({ id: positionals[0] });
      out(`cancelled ${r.cancelled} trials (${r.running} were running)`);
      return 0;
    }
    case 'trials': {
      const { values } = args(rest, { sweep: { type: 'string' }, status: { type: 'string' }, method: { type: 'string' }, sort: { type: 'string' }, order: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, csv: { type: 'boolean' } });
      const api = apiClient(values.coordinator ?? defaultCoordinatorUrl(), values.token ?? defaultToken());
      const { items } = await api.trials.list.query({
        sweepId: values.sweep,
        status: values.status as never,
        method: values.method,
        sort: (values.sort ?? 'ordinal') as never,
        order: (values.order ?? 'asc') as never,
        limit: intFlag(values.limit, 'limit') ?? 1000,
        offset: 0,
      });
      const lines = items.map((t) => ({
        id: t.id,
        sweepId: t.sweepId,
        status: t.status,
        method: t.method,
        config: t.config,
        seed: t.seed,
        attempt: t.attempt,
        params: t.params,
        validPpl: t.validPpl,
        testPpl: t.testPpl,
        seconds: t.seconds,
        error: t.error,
        flag: t.flag,
      }));
      if (values.json) for (const l of lines) out(JSON.stringify(l));
      else if (values.csv) {
        const keys = varyingFields(lines.map((l) => l.config));
        out(csv(['id', 'sweepId', 'status', 'method', 'seed', 'attempt', 'params', 'validPpl', 'testPpl', 'seconds', ...keys, 'config', 'error'], lines.map((l) => [l.id, l.sweepId, l.status, l.method, l.seed, l.attempt, l.params, l.validPpl, l.testPpl, l.seconds, ...keys.map((k) => flatten(l.config)[k]), l.config, l.error])));
      } else {
        const keys = varyingFields(lines.map((l) => l.config));
        out(table(['id', 'status', 'method', ...keys, 'seed', 'try', 'params', 'valid ppl', 'test ppl'], lines.map((l) => [l.id, l.status, l.method, ...keys.map((k) => fieldCell(l.config, k)), l.seed, l.attempt, fmtParams(l.params), fmtNum(l.validPpl), fmtNum(l.testPpl)])));
      }
      return 0;
    }
    case 'leaderboard': {
      const { values } = args(rest, { sweep: { type: 'string' }, sort: { type: 'string' }, json: { type: 'boolean' } });
      const api = apiClient(values.coordinator ?? defaultCoordinatorUrl(), values.token ?? defaultToken());
      const rows = await api.leaderboard.list.query({ sweepId: values.sweep, sort: (values.sort ?? 'pareto') as never });
      if (values.json) {
        for (const r of rows) out(JSON.stringify(r));
        return 0;
      }
      out(renderLeaderboard(rows));
      return 0;
    }
    case 'workers': {
      const { values } = args(rest, { json: { type: 'boolean' } });
      const workers = await apiClient(values.coordinator ?? defaultCoordinatorUrl(), values.token ?? defaultToken()).workers.list.query();
      if (values.json) {
        for (const w of workers) out(JSON.stringify(w));
        return 0;
      }
      out(table(['name', 'host', 'backend', 'device', 'connected', 'trial', 'progress', 'last heartbeat'], workers.map((w) => [w.name, w.host, w.backend, w.device, w.connected ? 'yes' : 'no', w.currentTrialId ?? '-', w.progress === null || w.progress === undefined ? '-' : `${Math.round(w.progress * 100)}%`, `${Math.round((Date.now() - new Date(w.lastHeartbeat).getTime()) / 1000)} s ago`])));
      return 0;
    }
    case 'bench': {
      // Each benchmark parses its own flags (args after its name); --json is shared.
      const name = rest[0] && !rest[0].startsWith('-') ? rest[0] : undefined;
      const benchArgs = name ? rest.slice(1) : rest;
      const bench = name ? benchmarks[name] : undefined;
      if (!bench) {
        const names = Object.keys(benchmarks);
        throw new UsageError(`${name ? `no benchmark named "${name}"` : 'bench needs a name'}; available: ${names.length ? names.join(', ') : '(none yet)'}`);
      }
      await bench({ json: benchArgs.includes('--json'), out, args: benchArgs });
      return 0;
    }
    case 'compress': {
      const { runCompress, CompressUsageError } = await import('./compress.ts');
      try {
        return await runCompress(rest, out);
      } catch (e) {
        throw e instanceof CompressUsageError ? new UsageError(e.message) : e;
      }
    }
    case 'demo': {
      const { values } = args(rest, { port: { type: 'string' }, 'dashboard-port': { type: 'string' }, spec: { type: 'string' }, 'no-dashboard': { type: 'boolean' }, 'exit-when-done': { type: 'boolean' }, database: { type: 'string' } });
      const { runDemo } = await import('./demo.ts');
      return runDemo({
        port: intFlag(values.port, 'port'),
        dashboardPort: intFlag(values['dashboard-port'], 'dashboard-port'),
        spec: values.spec,
        dashboard: !values['no-dashboard'],
        exitWhenDone: Boolean(values['exit-when-done']),
        databaseUrl: values.database ?? process.env.DATABASE_URL,
        out,
      });
    }
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError) process.stderr.write(`lmsweep: ${e.message}\n\n${HELP}\n`);
    else process.stderr.write(`lmsweep: ${describeApiError(e)}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
