// lmsweep coordinator: the server, until Ctrl-C.
import path from 'node:path';
import { DEFAULT_COORDINATOR_PORT, DEFAULT_LEASE_MS, MAX_ARTIFACT_BYTES } from '@lmsweep/protocol';
import { BYTE_SIZE_PATTERN, parseByteSize } from '../byte-size.ts';
import { defineCommand } from '../command.ts';
import { UsageError } from '../options.ts';
import { cliLogger } from '../logging.ts';
import { LOG_ENVIRONMENT, logLevel, logOption } from './shared.ts';
import { untilSignal } from '../signals.ts';

export const coordinatorCommand = defineCommand({
  name: 'coordinator',
  summary: 'the coordinator: API for the CLI and dashboard, websocket for workers, lease reaper',
  description:
    'Runs the coordinator until Ctrl-C, on the embedded PGlite database or a PostgreSQL server (migrations applied at start). ' +
    'On loopback it needs no tokens; to listen on a network it needs both LMSWEEP_WORKER_TOKEN and LMSWEEP_API_TOKEN, and refuses to start without them.',
  options: {
    port: { type: 'integer', value: 'P', max: 65_535, env: 'LMSWEEP_PORT', default: DEFAULT_COORDINATOR_PORT, description: 'port to listen on (0: any free one)' },
    host: { type: 'string', value: 'H', env: 'LMSWEEP_HOST', default: '127.0.0.1', description: 'address to bind' },
    database: { type: 'string', value: 'URL', env: 'DATABASE_URL', defaultText: '.lmsweep/db (embedded PGlite)', description: 'postgres://user:pass@host:5432/db, a PGlite directory, or memory://' },
    'lease-ms': { type: 'integer', value: 'MS', min: 1, default: DEFAULT_LEASE_MS, description: "a claimed trial's lease, renewed by the worker's heartbeats" },
    'allowed-hosts': { type: 'string', value: 'NAME[:PORT],…', defaultText: '$LMSWEEP_ALLOWED_HOSTS, else its own names', description: "Host headers it answers besides its own (loopback names with its port; off loopback any IP and this machine's name); * turns the check off" },
    artifacts: { type: 'string', value: 'DIR', env: 'LMSWEEP_ARTIFACTS', defaultText: 'in the database', description: 'checkpoints as files in this directory (a shared path such as NFS or Lustre on a cluster); created if missing' },
    'max-artifact-size': { type: 'string', value: 'SIZE', env: 'LMSWEEP_MAX_ARTIFACT_SIZE', pattern: BYTE_SIZE_PATTERN, expected: 'a size such as 512MiB, 4GiB or 2GB', default: `${MAX_ARTIFACT_BYTES / 2 ** 20}MiB`, description: 'the largest checkpoint a worker may upload' },
    log: logOption,
  },
  environment: {
    LMSWEEP_WORKER_TOKEN: 'workers must send it (lmsweep worker --token); required off loopback',
    LMSWEEP_API_TOKEN: 'launching and cancelling need it (lmsweep launch --token); required off loopback',
    LMSWEEP_ALLOWED_HOSTS: 'the default of --allowed-hosts',
    ...LOG_ENVIRONMENT,
  },
  async run({ values, out }) {
    const { startCoordinator, coordinatorEnv, connectionLimits, parseAllowedHosts } = await import('@lmsweep/coordinator');
    // A bad environment or an unsafe binding (no tokens beyond loopback) ends here with its message.
    const env = coordinatorEnv();
    const maxArtifactBytes = parseByteSize(values['max-artifact-size']);
    if (maxArtifactBytes === null || maxArtifactBytes < 1) throw new UsageError(`--max-artifact-size must be a size from 1 byte to 8 PiB, got "${values['max-artifact-size']}"`);
    const { logger } = cliLogger({ level: logLevel('info'), format: values.log, stream: process.stdout });
    const c = await startCoordinator({
      port: values.port,
      host: values.host,
      databaseUrl: values.database,
      leaseMs: values['lease-ms'],
      log: logger,
      workerToken: env.LMSWEEP_WORKER_TOKEN,
      apiToken: env.LMSWEEP_API_TOKEN,
      allowedHosts: parseAllowedHosts(values['allowed-hosts']) ?? env.LMSWEEP_ALLOWED_HOSTS,
      connectionLimits: connectionLimits(env),
      ...(values.artifacts ? { artifactsDir: path.resolve(values.artifacts) } : {}),
      maxArtifactBytes,
    });
    out(`coordinator listening on ${c.url} (${c.db.target.kind === 'pglite' ? `PGlite ${c.db.target.dataDir}` : 'PostgreSQL'}; checkpoints ${values.artifacts ? `in ${path.resolve(values.artifacts)}` : 'in the database'})`);
    await untilSignal();
    await c.close();
    return 0;
  },
});
