// The coordinator: tRPC over HTTP (with SSE subscriptions) for the dashboard and CLI, a websocket
// endpoint for workers, a reaper that requeues trials whose lease expired, and the growth step of
// sweeps that grow (growth.ts), and the verdicts, pauses and promotions of pruned sweeps (pruning.ts).
import http from 'node:http';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import pino, { type Logger } from 'pino';
import { appRouter } from '@lmsweep/api';
import { ArtifactFiles, openDatabase, TrialStore, describeTarget, type Db } from '@lmsweep/db';
import { ARTIFACT_PATH, DEFAULT_LEASE_MS, DEFAULT_REAP_INTERVAL_MS, MAX_API_BATCH, MAX_API_BODY_BYTES, WORKER_PATH } from '@lmsweep/protocol';
import { WorkerGateway } from './gateway.ts';
import type { ConnectionLimits } from './connection-limits.ts';
import type { ClaimLimits } from './claim-limits.ts';
import { bearerToken, tokenMatches } from './auth.ts';
import { isLoopback } from './address.ts';
import { artifactRoutes, ORPHAN_CHUNK_AGE_MS, UPLOAD_TIMEOUT_MS } from './artifacts.ts';
import { allowedHostIssue, hostPolicy } from './host-check.ts';
import { apiRefusal, batchSizeIssue, readApiBody, singleProcedure } from './api-limits.ts';
import { DEFAULT_SUBSCRIPTION_LIMITS, SubscriptionCounts, type SubscriptionLimits } from './subscription-limits.ts';
import { SpecPool, type SpecPoolOptions } from './spec-pool.ts';
import { DEFAULT_VALIDATE_LIMITS, specChecksFor, ValidateLimiter, type ValidateLimits } from './validate-limits.ts';
import { SweepGrowth } from './growth.ts';
import { SweepPruning } from './pruning.ts';

export interface CoordinatorOptions {
  port?: number;
  host?: string;
  /** postgres://…, memory://, or a PGlite data directory; default .lmsweep/db. */
  databaseUrl?: string;
  leaseMs?: number;
  reapIntervalMs?: number;
  /** Base of the retry backoff after a failed or expired attempt (tests set 0). */
  backoffBaseMs?: number;
  log?: Logger;
  /** Workers must present this token in their hello. Required unless bound to loopback. */
  workerToken?: string;
  /** tRPC mutations need `Authorization: Bearer <apiToken>`. Required unless bound to loopback. */
  apiToken?: string;
  /**
   * Host names it answers to besides its own (host-check.ts): "name", "name:port"; "*" for any.
   * For a coordinator behind a name, a proxy or a tunnel to another port.
   */
  allowedHosts?: readonly string[];
  /** The threads that check and expand specs off the event loop. */
  specPool?: SpecPoolOptions;
  /** How often one address may validate a spec without the API token (validate-limits.ts defaults for the rest). */
  validateLimits?: Partial<ValidateLimits>;
  /**
   * Live subscriptions per address and in all (subscription-limits.ts defaults for the rest;
   * loopback is exempt from the per-address cap as connectionLimits.exemptLoopback says).
   */
  subscriptionLimits?: Partial<SubscriptionLimits>;
  /** Worker sockets: hello timeout, ping interval, per-address caps (connection-limits.ts defaults for the rest). */
  connectionLimits?: Partial<ConnectionLimits>;
  /** Claims per worker and per address (claim-limits.ts defaults for the rest). */
  claimLimits?: Partial<ClaimLimits>;
  /** Checkpoints as files in this directory (a shared path on a cluster); default: in the database. */
  artifactsDir?: string;
  /** The largest checkpoint accepted (default MAX_ARTIFACT_BYTES). */
  maxArtifactBytes?: number;
}

/** Thrown before anything starts when the options are unsafe (e.g. an open port without tokens). */
export class CoordinatorConfigError extends Error {
  override name = 'CoordinatorConfigError';
}

export interface Coordinator {
  url: string;
  port: number;
  db: Db;
  store: TrialStore;
  close(): Promise<void>;
}

export async function startCoordinator(opts: CoordinatorOptions = {}): Promise<Coordinator> {
  const log = opts.log ?? pino({ level: process.env.LMSWEEP_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host)) {
    const missing = [!opts.workerToken && 'a worker token (LMSWEEP_WORKER_TOKEN)', !opts.apiToken && 'an API token (LMSWEEP_API_TOKEN)'].filter(Boolean);
    if (missing.length) {
      throw new CoordinatorConfigError(
        `refusing to listen on ${host} without ${missing.join(' and ')}: anyone who can reach the port could ${!opts.workerToken ? 'pose as a worker' : 'launch and cancel sweeps'}. Set the token(s), or bind to 127.0.0.1.`,
      );
    }
  }
  const badHosts = (opts.allowedHosts ?? []).map(allowedHostIssue).filter(Boolean);
  if (badHosts.length) throw new CoordinatorConfigError(`allowed hosts: ${badHosts.join('; ')}`);
  const apiToken = opts.apiToken;
  const db = await openDatabase({ url: opts.databaseUrl });
  let artifactFiles: ArtifactFiles | undefined;
  if (opts.artifactsDir !== undefined) {
    artifactFiles = new ArtifactFiles(opts.artifactsDir);
    try {
      await artifactFiles.init();
    } catch (e) {
      await db.close();
      throw new CoordinatorConfigError((e as Error).message);
    }
  }
  const store = new TrialStore(db, { ...(opts.backoffBaseMs !== undefined ? { backoffBaseMs: opts.backoffBaseMs } : {}), ...(artifactFiles ? { artifactFiles } : {}) });
  log.info({ database: describeTarget(db.target), artifacts: artifactFiles ? artifactFiles.dir : 'database' }, 'database ready');

  const pruning = new SweepPruning({ store, log });
  const gateway = new WorkerGateway({ store, leaseMs, log, pruning, ...(opts.workerToken ? { workerToken: opts.workerToken } : {}), ...(opts.connectionLimits ? { limits: opts.connectionLimits } : {}), ...(opts.claimLimits ? { claimLimits: opts.claimLimits } : {}) });
  const growth = new SweepGrowth({ store, log });
  const unlisten = await db.listen(
    (c) => {
      gateway.onChange(c);
      growth.onChange(c);
      pruning.onChange(c);
    },
    // Changes sent while the feed was down are lost: look at every growing or pruned sweep again.
    { onReconnect: () => void Promise.all([growth.resume(), pruning.resume()]) },
  );
  // A coordinator (re)started mid-sweep carries on from the database alone.
  void growth.resume();
  void pruning.resume();

  const specs = new SpecPool({ log, ...opts.specPool });
  const validations = new ValidateLimiter({ ...DEFAULT_VALIDATE_LIMITS, ...opts.validateLimits });
  const subscriptions = new SubscriptionCounts({ ...DEFAULT_SUBSCRIPTION_LIMITS, exemptLoopback: opts.connectionLimits?.exemptLoopback ?? DEFAULT_SUBSCRIPTION_LIMITS.exemptLoopback, ...opts.subscriptionLimits });
  /** The API's subscription procedures (`live.changes`): what holds a response open. */
  const subscriptionPaths = new Set(
    Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
      .filter(([, p]) => p._def.type === 'subscription')
      .map(([path]) => path),
  );
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    // Long specs are validated with POST (a GET's query string is limited).
    allowMethodOverride: true,
    // The body's size and the batch's are checked before tRPC sees the request (api-limits.ts).
    createContext: ({ req }) => {
      // Reads are open; mutations need the API token when one is set (loopback-only otherwise).
      const canWrite = apiToken === undefined || tokenMatches(bearerToken(req.headers.authorization), apiToken);
      // Specs are checked (datasets included) and expanded on worker threads; anonymous validations are paced per address.
      return { db, store, canWrite, specs: specChecksFor(specs, validations, { canWrite, remote: req.socket.remoteAddress ?? null }) };
    },
    onError: ({ error, path, req }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ err: error, path }, 'api error');
      else if (error.code === 'UNAUTHORIZED') log.warn({ path, remote: req.socket.remoteAddress, token: req.headers.authorization ? 'wrong' : 'missing' }, 'api call refused: bad or missing API token');
    },
  });
  const artifacts = artifactRoutes({ store, log, ...(opts.workerToken ? { workerToken: opts.workerToken } : {}), ...(opts.maxArtifactBytes !== undefined ? { maxBytes: opts.maxArtifactBytes } : {}) });
  /** Set once the port is known (nothing is answered before). */
  let refuseHost: (headers: http.IncomingHttpHeaders) => string | null = () => 'not listening yet';
  const server = http.createServer((req, res) => {
    const wrongHost = refuseHost(req.headers);
    if (wrongHost) {
      log.warn({ host: req.headers.host, origin: req.headers.origin, remote: req.socket.remoteAddress, url: req.url?.slice(0, 200) }, 'request refused: not addressed to this coordinator');
      return apiRefusal(res, 403, 'FORBIDDEN', 'FORBIDDEN_HOST', wrongHost);
    }
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ ok: true, workers: gateway.connectedWorkers }));
    }
    if (req.url?.startsWith('/trpc/')) {
      const tooMany = batchSizeIssue(req.url, MAX_API_BATCH);
      if (tooMany) return apiRefusal(res, 400, 'BAD_REQUEST', 'BATCH_TOO_LARGE', tooMany);
      const path = singleProcedure(req.url);
      if (path !== null && subscriptionPaths.has(path)) {
        // A live subscription holds its place until its response closes.
        const remote = req.socket.remoteAddress ?? null;
        const full = subscriptions.admit(remote);
        if (full) {
          log.warn({ remote, open: subscriptions.open }, 'live subscription refused: too many');
          return apiRefusal(res, 429, 'TOO_MANY_REQUESTS', 'TOO_MANY_SUBSCRIPTIONS', full);
        }
        res.once('close', () => subscriptions.release(remote));
      }
      void readApiBody(req, res, MAX_API_BODY_BYTES).then((body) => {
        if (body === null) return;
        // tRPC takes a body already read as `req.body` (a string) instead of reading the request.
        if (body !== undefined) Object.assign(req, { body });
        return trpc(req, res);
      }).catch((e: unknown) => {
        log.error({ err: e, url: req.url?.slice(0, 200) }, 'api request failed');
        if (!res.headersSent) apiRefusal(res, 400, 'BAD_REQUEST', 'INVALID_INPUT', 'the request could not be read');
      });
      return;
    }
    if (req.url?.startsWith(ARTIFACT_PATH)) {
      artifacts(req, res).catch((e) => {
        log.error({ err: e, url: req.url }, 'artifact request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'internal error' }));
        else res.destroy();
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  // Node's default, stated: an upload (the longest request) is cut past it, which is what makes chunks older than ORPHAN_CHUNK_AGE_MS orphans.
  server.requestTimeout = UPLOAD_TIMEOUT_MS;
  server.on('upgrade', (req, socket, head) => {
    const wrongHost = refuseHost(req.headers);
    if (wrongHost) {
      log.warn({ host: req.headers.host, origin: req.headers.origin, remote: req.socket.remoteAddress }, 'websocket refused: not addressed to this coordinator');
      socket.end(`HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\n${wrongHost}\n`);
      return;
    }
    if (new URL(req.url ?? '/', 'http://x').pathname === WORKER_PATH) gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });

  const reap = async () => {
    try {
      const r = await store.reapExpired();
      // A worker that still thinks it holds one of these learns so at its next heartbeat (LEASE_LOST).
      if (r.requeued.length || r.failed.length) log.warn(r, 'expired leases reaped');
      // Chunks of uploads that were never finished nor discarded (a coordinator died mid-upload).
      const orphans = await store.artifacts.collectOrphans(ORPHAN_CHUNK_AGE_MS);
      if (orphans) log.warn({ removed: orphans }, 'orphaned artifact chunks and files deleted');
    } catch (e) {
      log.error({ err: e }, 'reaper failed');
    }
  };
  const reaper = setInterval(reap, opts.reapIntervalMs ?? Math.min(DEFAULT_REAP_INTERVAL_MS, Math.max(100, Math.floor(leaseMs / 3))));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  refuseHost = hostPolicy({ bindHost: host, port, ...(opts.allowedHosts ? { allowedHosts: opts.allowedHosts } : {}) });
  const url = `http://${host}:${port}`;
  log.info({ url }, 'coordinator listening');

  let closed = false;
  return {
    url,
    port,
    db,
    store,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(reaper);
      await growth.close();
      await pruning.close();
      await gateway.close();
      await specs.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlisten();
      await db.close();
    },
  };
}
