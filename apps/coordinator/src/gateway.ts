// The websocket endpoint workers talk to. Every message is validated; every trial write is
// fenced by (worker, attempt) in the store, so a stale or duplicated message changes nothing.
// What a socket may cost is bounded: before its hello it may send one small message (a hello;
// anything else closes it) and a few KiB in all; after it, its messages are handled one at a time
// and, past a backlog, it is not read until the backlog is handled (ConnectionLimits).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import {
  artifactPath,
  type CoordinatorMessage,
  decodeJson,
  encodeMessage,
  heartbeatInterval,
  IDLE_RETRY_MS,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  resumeArtifactName,
  WorkerMessage,
  zodIssues,
} from '@lmsweep/protocol';
import type { Change, ClaimedTrial, CompleteInput, CompleteOutcome, HeartbeatInput, JudgedMetricReport, MetricReport, PruneTriage, TrialStore } from '@lmsweep/db';
import { tokenMatches } from './auth.ts';
import { AddressCounts, type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from './connection-limits.ts';
import { ClaimLimiter, type ClaimLimits, DEFAULT_CLAIM_LIMITS, HeldTrials } from './claim-limits.ts';
import { GroupBatchError, GroupCommit, GroupItemError } from './group-commit.ts';
import type { SweepPruning } from './pruning.ts';

interface Connection {
  ws: WebSocket;
  workerId: string | null;
  /** Trials this connection holds a lease on: trialId → attempt. */
  trials: Map<string, number>;
  /** Those of them a pruner judges (AssignedTrial.judged): trialId → sweepId (saves the store a lookup per verdict). */
  judged: Map<string, string>;
  /** Messages are handled one at a time, in order. */
  chain: Promise<void>;
  lastSeenWrite: number;
  remote: string | null;
  /** No valid hello yet: counted as unauthenticated, closed when helloTimer fires. */
  pending: boolean;
  helloTimer: NodeJS.Timeout | null;
  /** Answered (pong or any message) since the last ping. */
  alive: boolean;
  /** Whether its first message (which must be a hello) has arrived. */
  spoke: boolean;
  /** Closing: what it sent after the reason to close is not handled. */
  closing: boolean;
  /** Messages received and not yet handled, and their bytes; `paused` while over the limit. */
  backlog: number;
  backlogBytes: number;
  paused: boolean;
}

const IDLE_SEEN_EVERY_MS = 5_000;

export interface GatewayOptions {
  store: TrialStore;
  leaseMs: number;
  log: Logger;
  /** When set, a hello without this token is refused (UNAUTHORIZED) and the socket closed. */
  workerToken?: string;
  /** Hello timeout, ping interval and per-address caps (DEFAULT_CONNECTION_LIMITS for what is not given). */
  limits?: Partial<ConnectionLimits>;
  /** Claim rate per worker and per address (DEFAULT_CLAIM_LIMITS for what is not given). */
  claimLimits?: Partial<ClaimLimits>;
  /** Pruned sweeps' verdicts and pauses (without it, a judged report is only stored). */
  pruning?: SweepPruning;
}

/** Close code for a refused worker token (4000–4999 are the application's). */
export const CLOSE_UNAUTHORIZED = 4001;
/** Close code for a socket that sent no valid hello in time. */
export const CLOSE_HELLO_TIMEOUT = 4002;
/** Close code for a socket whose first message is not a valid hello. */
export const CLOSE_NOT_HELLO = 4003;
/** Close code (the protocol's "message too big") for a socket that sent more than maxHelloBytes before its hello was answered. */
export const CLOSE_TOO_BIG = 1009;
/** How long a closing handshake may take before the socket is cut. */
const CLOSE_GRACE_MS = 1_000;

/** How long close() waits for closed sockets' last writes. */
const CLOSE_WAIT_MS = 5_000;

export class WorkerGateway {
  readonly wss: WebSocketServer;
  private readonly conns = new Set<Connection>();
  /** Writes a closed socket left (its last messages, then its worker marked disconnected): close() waits for them before the database goes. */
  private readonly settling = new Set<Promise<void>>();
  private readonly opts: GatewayOptions;
  private readonly claims: GroupCommit<string, ClaimedTrial | null>;
  private readonly heartbeats: GroupCommit<HeartbeatInput, boolean>;
  private readonly metrics: GroupCommit<MetricReport, boolean>;
  private readonly judgedMetrics: GroupCommit<JudgedMetricReport, PruneTriage | 'lost'>;
  private readonly results: GroupCommit<CompleteInput, CompleteOutcome>;
  readonly limits: Readonly<ConnectionLimits>;
  private readonly addresses: AddressCounts;
  private readonly pinger: NodeJS.Timeout;
  private lastPing = Date.now();
  private readonly claimLimiter: ClaimLimiter;
  private readonly held = new HeldTrials();
  /** Workers with a claim under way (a second connection of the same worker waits its turn). */
  private readonly claiming = new Set<string>();

  constructor(opts: GatewayOptions) {
    this.opts = opts;
    this.limits = Object.freeze({ ...DEFAULT_CONNECTION_LIMITS, ...opts.limits });
    this.addresses = new AddressCounts(this.limits);
    this.claimLimiter = new ClaimLimiter({ ...DEFAULT_CLAIM_LIMITS, ...opts.claimLimits });
    this.pinger = setInterval(() => this.pingAll(), this.limits.pingIntervalMs);
    this.pinger.unref();
    // A batch that failed on a value is retried in smaller ones, so only the item the database
    // refuses fails; one that failed otherwise (the database is down) fails whole: one line each.
    const split = (kind: string) => ({
      onBatchFailed: (size: number, reason: string) => opts.log.warn({ kind, size, reason }, 'group commit failed; retrying its items in smaller batches'),
      onBatchError: (size: number, reason: string) => opts.log.error({ kind, size, reason }, 'group commit failed; its items are answered INTERNAL'),
    });
    this.claims = new GroupCommit((workerIds) => opts.store.claimMany(workerIds, opts.leaseMs), 500, split('claim'));
    this.heartbeats = new GroupCommit((beats) => opts.store.heartbeatMany(beats, opts.leaseMs), 500, split('heartbeat'));
    this.metrics = new GroupCommit((reports) => opts.store.addMetricsMany(reports), 200, split('metric'));
    this.judgedMetrics = new GroupCommit((reports) => opts.store.addJudgedMetricsMany(reports), 200, split('judged metric'));
    this.results = new GroupCommit((items) => opts.store.completeMany(items), 500, split('complete'));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
    this.wss.on('connection', (ws: WebSocket, req?: IncomingMessage) => this.onConnection(ws, req));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const remote = req.socket.remoteAddress ?? null;
    const why = this.addresses.refusal(remote);
    if (why) {
      this.opts.log.warn({ remote, why }, 'worker socket refused');
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(why)}\r\n\r\n${why}`);
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      return;
    }
    // Counted at once (the handshake completes synchronously), so a burst of upgrades cannot slip past the cap.
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  /** Sockets open from an address: { pending (no hello yet), total }. */
  socketsFrom(remote: string): { pending: number; total: number } {
    return { ...this.addresses.of(remote) };
  }

  get connectedWorkers(): number {
    return [...this.conns].filter((c) => c.workerId).length;
  }

  /** A database change seen by this coordinator: tell the worker holding a cancelled trial to stop. */
  onChange(c: Change): void {
    if (c.kind !== 'trial' || c.status !== 'cancelled') return;
    this.held.drop(c.id);
    for (const conn of this.conns) {
      const attempt = conn.trials.get(c.id);
      if (attempt !== undefined) {
        this.forget(conn, c.id);
        this.send(conn, { type: 'cancel', trialId: c.id, attempt, reason: 'sweep cancelled' });
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    // Each terminated socket's close event queues its last writes; a store closed under them
    // (PostgreSQL's pool ended with their transactions begun) would never answer them, and
    // close() would hang. A database that stopped answering gets CLOSE_WAIT_MS, not forever.
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while (this.conns.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await Promise.race([Promise.allSettled([...this.settling]), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
  }

  /**
   * Drops the sockets that answered nothing since the previous round and pings the rest. A round
   * that comes late (this process's event loop was blocked) drops no one: the answers may be
   * waiting, unread, behind the block.
   */
  private pingAll(): void {
    const now = Date.now();
    const late = now - this.lastPing > 1.5 * this.limits.pingIntervalMs;
    this.lastPing = now;
    this.claimLimiter.prune();
    for (const conn of this.conns) {
      // A socket we stopped reading (its backlog) cannot have its pong read: not dead for that.
      if (!conn.alive && !late && !conn.paused) {
        this.opts.log.warn({ workerId: conn.workerId, remote: conn.remote }, 'worker socket dropped: no answer to ping');
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      if (conn.ws.readyState === conn.ws.OPEN) conn.ws.ping();
    }
  }

  /** Closes with a code and reason, and cuts the socket if the peer does not finish the closing handshake soon. */
  private closeSoon(conn: Connection, code: number, reason: string): void {
    conn.closing = true;
    conn.ws.close(code, reason);
    setTimeout(() => conn.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  private onConnection(ws: WebSocket, req?: IncomingMessage): void {
    const remote = req?.socket.remoteAddress ?? null;
    const conn: Connection = { ws, workerId: null, trials: new Map(), judged: new Map(), chain: Promise.resolve(), lastSeenWrite: 0, remote, pending: true, helloTimer: null, alive: true, spoke: false, closing: false, backlog: 0, backlogBytes: 0, paused: false };
    this.conns.add(conn);
    this.addresses.opened(remote);
    conn.helloTimer = setTimeout(() => {
      conn.helloTimer = null;
      this.opts.log.warn({ remote }, 'worker socket closed: no hello in time');
      this.closeSoon(conn, CLOSE_HELLO_TIMEOUT, `no valid hello within ${this.limits.helloTimeoutMs} ms`);
    }, this.limits.helloTimeoutMs);
    conn.helloTimer.unref();
    // Until its hello is answered, a socket may send maxHelloBytes (frames and all, counted as they
    // are read, before the websocket layer assembles a message of up to MAX_MESSAGE_BYTES).
    const raw = req?.socket;
    let before = 0;
    const countBeforeHello = (chunk: Buffer) => {
      before += chunk.length;
      if (before <= this.limits.maxHelloBytes) return;
      raw?.off('data', countBeforeHello);
      this.opts.log.warn({ remote, bytes: before }, 'worker socket cut: too much sent before its hello');
      ws.pause();
      this.closeSoon(conn, CLOSE_TOO_BIG, `more than ${this.limits.maxHelloBytes} bytes before the hello was answered`);
    };
    raw?.on('data', countBeforeHello);
    const stopCounting = () => raw?.off('data', countBeforeHello);
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data, isBinary) => {
      conn.alive = true;
      if (conn.closing) return;
      const bytes = byteLength(data);
      conn.backlog++;
      conn.backlogBytes += bytes;
      if (!conn.paused && (conn.backlog > this.limits.maxBacklogMessages || conn.backlogBytes > this.limits.maxBacklogBytes)) {
        conn.paused = true;
        ws.pause();
        this.opts.log.warn({ workerId: conn.workerId, remote, messages: conn.backlog, bytes: conn.backlogBytes }, 'worker socket paused: too many messages waiting to be handled');
      }
      conn.chain = conn.chain
        .then(() => this.onMessage(conn, data, isBinary, stopCounting))
        .catch((e) => {
          // The database refused this one message (its batch was retried without it): one line, no stack.
          if (e instanceof GroupItemError) this.opts.log.error({ workerId: conn.workerId, reason: e.message }, 'worker message failed in the database');
          else if (e instanceof GroupBatchError) this.opts.log.debug({ workerId: conn.workerId, reason: e.message }, 'worker message failed with its batch');
          else this.opts.log.error({ err: e, workerId: conn.workerId }, 'worker message failed');
          this.send(conn, { type: 'error', code: 'INTERNAL', message: 'internal error' });
        })
        .finally(() => {
          conn.backlog--;
          conn.backlogBytes -= bytes;
          if (conn.paused && !conn.closing && conn.backlog <= this.limits.maxBacklogMessages / 2 && conn.backlogBytes <= this.limits.maxBacklogBytes / 2) {
            conn.paused = false;
            ws.resume();
          }
        });
    });
    ws.on('error', (e) => this.opts.log.warn({ err: e, workerId: conn.workerId }, 'worker socket error'));
    ws.on('close', (code, reason) => {
      this.conns.delete(conn);
      stopCounting();
      if (conn.helloTimer) clearTimeout(conn.helloTimer);
      this.addresses.closed(remote, conn.pending);
      if (conn.workerId) {
        this.opts.log.info({ workerId: conn.workerId, code, reason: reason.toString() }, 'worker disconnected');
        // Its leases stay: the worker may reconnect and deliver from its outbox; the reaper
        // requeues them if it does not come back in time.
        const settled = conn.chain.finally(() => this.opts.store.workerDisconnected(conn.workerId!).catch(() => {})).catch(() => {});
        this.settling.add(settled);
        void settled.finally(() => this.settling.delete(settled));
      }
    });
  }

  /** The connection no longer holds the trial (it ended, paused or was pruned). */
  private forget(conn: Connection, trialId: string): void {
    conn.trials.delete(trialId);
    conn.judged.delete(trialId);
    this.held.drop(trialId);
  }

  private send(conn: Connection, msg: CoordinatorMessage): void {
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(encodeMessage(msg));
  }

  /**
   * Null when this worker may take a trial now; else how long it should wait (its `idle`'s
   * retryMs): while it holds a live lease (an honest agent claims the next trial after reporting
   * the last; the database has the last word), while another claim of it is under way, or while
   * its claim bucket (or its address's) is empty.
   */
  private async claimWait(workerId: string, remote: string | null): Promise<number | null> {
    if (this.claiming.has(workerId)) return IDLE_RETRY_MS;
    if (this.held.count(workerId) > 0) {
      const leases = await this.opts.store.leasesOf(workerId);
      this.held.reset(workerId, leases);
      if (leases.length > 0) {
        this.opts.log.warn({ workerId, holds: leases.map((l) => l.id) }, 'claim refused: the worker still holds a trial');
        return IDLE_RETRY_MS;
      }
    }
    const wait = this.claimLimiter.waitMs(workerId, remote);
    if (wait > 0) {
      this.opts.log.warn({ workerId, remote, retryMs: wait }, 'claim refused: claiming too fast');
      return wait;
    }
    return null;
  }

  /**
   * Handles one message. The first of a socket must be a valid hello: anything else is answered
   * (BAD_MESSAGE, NOT_HELLO) and the socket closed, so a client that has not said hello costs one
   * small message at most.
   */
  private async onMessage(conn: Connection, data: unknown, isBinary: boolean, helloAnswered: () => void): Promise<void> {
    const { store, leaseMs, log } = this.opts;
    if (conn.closing) return;
    const first = !conn.spoke;
    conn.spoke = true;
    const refuseFirst = (reply: CoordinatorMessage) => {
      this.send(conn, reply);
      log.warn({ remote: conn.remote, code: reply.type === 'error' ? reply.code : reply.type }, 'worker socket closed: its first message was not a valid hello');
      this.closeSoon(conn, CLOSE_NOT_HELLO, 'the first message must be a valid hello');
    };
    if (isBinary) {
      const reply: CoordinatorMessage = { type: 'error', code: 'BAD_MESSAGE', message: 'binary frames are not accepted; send JSON text' };
      return first ? refuseFirst(reply) : this.send(conn, reply);
    }
    let raw: unknown;
    try {
      raw = decodeJson(String(data));
    } catch {
      const reply: CoordinatorMessage = { type: 'error', code: 'BAD_MESSAGE', message: 'message is not valid JSON' };
      return first ? refuseFirst(reply) : this.send(conn, reply);
    }
    const parsed = WorkerMessage.safeParse(raw);
    if (!parsed.success) {
      const replyTo = raw && typeof raw === 'object' && typeof (raw as { msgId?: unknown }).msgId === 'string' ? ((raw as { msgId: string }).msgId.slice(0, 100) || undefined) : undefined;
      const all = zodIssues(parsed.error).map((i) => `${i.path || '(message)'}: ${i.message}`).join('; ');
      const message = all.length > 2000 ? `${all.slice(0, 1999)}…` : all;
      log.warn({ workerId: conn.workerId, message }, 'malformed worker message');
      const reply: CoordinatorMessage = { type: 'error', replyTo, code: 'BAD_MESSAGE', message };
      return first ? refuseFirst(reply) : this.send(conn, reply);
    }
    const msg = parsed.data;
    if (first && msg.type !== 'hello') return refuseFirst({ type: 'error', replyTo: msg.msgId, code: 'NOT_HELLO', message: 'say hello first: the first message must be a hello' });
    if (msg.type === 'hello') {
      // A valid hello in time: what follows (token, key) is answered and, when refused, closed by itself.
      if (conn.helloTimer) clearTimeout(conn.helloTimer);
      conn.helloTimer = null;
      if (this.opts.workerToken !== undefined && !tokenMatches(msg.token, this.opts.workerToken)) {
        const why = msg.token === undefined ? 'missing' : 'wrong';
        log.warn({ name: msg.name, host: msg.host, remote: conn.remote, token: why }, 'worker refused: bad or missing worker token');
        this.send(conn, { type: 'error', replyTo: msg.msgId, code: 'UNAUTHORIZED', message: `worker token ${why}: start the worker with --token or LMSWEEP_TOKEN set to the coordinator's LMSWEEP_WORKER_TOKEN` });
        return this.closeSoon(conn, CLOSE_UNAUTHORIZED, `unauthorized: ${why} worker token`);
      }
      if (msg.protocol !== PROTOCOL_VERSION) {
        this.send(conn, { type: 'error', replyTo: msg.msgId, code: 'BAD_MESSAGE', message: `protocol ${msg.protocol} not supported (coordinator speaks ${PROTOCOL_VERSION})` });
        return this.closeSoon(conn, 4000, 'protocol version');
      }
      const reg = await store.registerWorker({ id: msg.workerId, name: msg.name, host: msg.host, backend: msg.backend, device: msg.device, version: msg.version, slurmJob: msg.slurmJob }, msg.workerKey);
      if (!reg) {
        log.warn({ workerId: msg.workerId, name: msg.name, remote: conn.remote }, 'worker refused: its id belongs to another worker (wrong or missing worker key)');
        this.send(conn, { type: 'error', replyTo: msg.msgId, code: 'UNAUTHORIZED', message: `worker id ${msg.workerId} is registered with another key: connect without a workerId to register as a new worker` });
        return this.closeSoon(conn, CLOSE_UNAUTHORIZED, 'unauthorized: worker key');
      }
      conn.workerId = reg.id;
      if (conn.pending) this.addresses.authenticated(conn.remote);
      conn.pending = false;
      helloAnswered();
      log.info({ workerId: conn.workerId, name: msg.name, backend: msg.backend, device: msg.device, ...(msg.slurmJob ? { slurmJob: msg.slurmJob } : {}) }, 'worker connected');
      return this.send(conn, { type: 'welcome', replyTo: msg.msgId, workerId: reg.id, workerKey: reg.key, leaseMs, heartbeatMs: heartbeatInterval(leaseMs), protocol: PROTOCOL_VERSION });
    }
    const workerId = conn.workerId;
    if (!workerId) return this.send(conn, { type: 'error', replyTo: msg.msgId, code: 'NOT_HELLO', message: 'say hello first' });
    const lost = (trialId: string) => {
      this.forget(conn, trialId);
      this.send(conn, { type: 'error', replyTo: msg.msgId, code: 'LEASE_LOST', trialId, message: `the lease on trial ${trialId} is no longer yours` });
    };
    switch (msg.type) {
      case 'claim': {
        const idle = (retryMs: number) => this.send(conn, { type: 'idle', replyTo: msg.msgId, retryMs });
        const wait = await this.claimWait(workerId, conn.remote);
        if (wait !== null) return idle(wait);
        this.claiming.add(workerId);
        let trial: ClaimedTrial | null;
        try {
          trial = await this.claims.submit(workerId);
          if (trial) {
            this.claimLimiter.took(workerId, conn.remote);
            this.held.hold(workerId, trial.id, trial.attempt);
          }
        } finally {
          this.claiming.delete(workerId);
        }
        if (!trial) {
          // An idle worker is alive too: refresh its last-seen time, at most every few seconds.
          if (Date.now() - conn.lastSeenWrite > IDLE_SEEN_EVERY_MS) {
            conn.lastSeenWrite = Date.now();
            await store.workerSeen(workerId, { progress: null, currentTrialId: null });
          }
          return idle(IDLE_RETRY_MS);
        }
        conn.trials.set(trial.id, trial.attempt);
        if (trial.judged) conn.judged.set(trial.id, trial.sweepId);
        log.info({ workerId, trialId: trial.id, sweepId: trial.sweepId, attempt: trial.attempt, ...(trial.resume ? { resumeAfter: trial.resume.step } : {}) }, 'trial claimed');
        return this.send(conn, { type: 'assign', replyTo: msg.msgId, trial });
      }
      case 'heartbeat': {
        // A heartbeat that holds updates the worker row in the same statement.
        const ok = await this.heartbeats.submit({ trialId: msg.trialId, workerId, attempt: msg.attempt, progress: msg.progress });
        if (ok) return this.held.hold(workerId, msg.trialId, msg.attempt);
        await store.workerSeen(workerId, { progress: null, currentTrialId: null });
        return lost(msg.trialId);
      }
      case 'metric': {
        const report = { trialId: msg.trialId, workerId, attempt: msg.attempt, points: msg.points };
        // A judged trial waits for the verdict on its last validation point: stored and its trial
        // triaged in one statement (group-committed), then judged.
        const point = msg.judge && this.opts.pruning ? msg.points.findLast((p) => p.name === 'valid_ppl') : undefined;
        if (!point) {
          if (!(await this.metrics.submit(report))) return lost(msg.trialId);
          return this.send(conn, { type: 'ack', replyTo: msg.msgId });
        }
        const pruning = this.opts.pruning!;
        const sweepId = conn.judged.get(msg.trialId);
        const triage = await this.judgedMetrics.submit({ ...report, step: point.step, withSpec: !pruning.knows(sweepId) });
        if (triage === 'lost') return lost(msg.trialId);
        const verdict = await pruning.judgeTriaged({ trialId: msg.trialId, sweepId: triage.sweepId, workerId, attempt: msg.attempt, step: point.step, value: point.value }, triage);
        if (verdict === 'lost') return lost(msg.trialId);
        if (verdict.action === 'stop') this.forget(conn, msg.trialId);
        return this.send(conn, { type: 'ack', replyTo: msg.msgId, verdict });
      }
      case 'complete': {
        const r = await this.results.submit({ trialId: msg.trialId, workerId, attempt: msg.attempt, result: msg.result });
        if (r === 'lost') return lost(msg.trialId);
        if (r === 'missing') {
          // Other trials start from this one's checkpoint, and it sent none: this attempt failed.
          const error = `trial ${msg.trialId} completed without uploading its checkpoint (PUT ${artifactPath(msg.trialId)}), which other trials start from`;
          await store.fail(msg.trialId, workerId, msg.attempt, { kind: 'error', error, retryable: true });
          this.forget(conn, msg.trialId);
          log.warn({ workerId, trialId: msg.trialId, attempt: msg.attempt }, 'trial completed without its checkpoint');
          return this.send(conn, { type: 'error', replyTo: msg.msgId, code: 'BAD_MESSAGE', trialId: msg.trialId, message: error });
        }
        this.forget(conn, msg.trialId);
        if (r === 'ok') this.claimLimiter.succeeded(workerId, conn.remote);
        log.info({ workerId, trialId: msg.trialId, attempt: msg.attempt, validPpl: msg.result.validPpl, duplicate: r === 'duplicate' }, 'trial completed');
        return this.send(conn, { type: 'ack', replyTo: msg.msgId, duplicate: r === 'duplicate' });
      }
      case 'fail': {
        const r = await store.fail(msg.trialId, workerId, msg.attempt, { kind: msg.kind, error: msg.error, retryable: msg.retryable });
        if (r === 'lost') return lost(msg.trialId);
        this.forget(conn, msg.trialId);
        log.warn({ workerId, trialId: msg.trialId, attempt: msg.attempt, kind: msg.kind, outcome: r }, 'trial failed');
        return this.send(conn, { type: 'ack', replyTo: msg.msgId });
      }
      case 'paused': {
        const sweepId = conn.judged.get(msg.trialId);
        const r = this.opts.pruning ? await this.opts.pruning.paused({ trialId: msg.trialId, ...(sweepId ? { sweepId } : {}), workerId, attempt: msg.attempt, step: msg.step, sha256: msg.sha256, seconds: msg.seconds }) : 'lost';
        if (r === 'lost') return lost(msg.trialId);
        if (r === 'missing') {
          const error = `trial ${msg.trialId} paused without its resume checkpoint stored (PUT ${artifactPath(msg.trialId, resumeArtifactName(msg.attempt))} with sha256 ${msg.sha256})`;
          log.warn({ workerId, trialId: msg.trialId, attempt: msg.attempt }, 'pause refused: no resume checkpoint');
          return this.send(conn, { type: 'error', replyTo: msg.msgId, code: 'BAD_MESSAGE', trialId: msg.trialId, message: error });
        }
        this.forget(conn, msg.trialId);
        log.info({ workerId, trialId: msg.trialId, attempt: msg.attempt, step: msg.step, duplicate: r === 'duplicate' }, 'trial paused');
        return this.send(conn, { type: 'ack', replyTo: msg.msgId, duplicate: r === 'duplicate' });
      }
      case 'release': {
        const ok = await store.release(msg.trialId, workerId, msg.attempt, msg.reason);
        // Releasing what is not yours (another worker's trial, an old attempt) changes nothing: say so.
        if (!ok) return lost(msg.trialId);
        this.forget(conn, msg.trialId);
        log.info({ workerId, trialId: msg.trialId, reason: msg.reason }, 'trial released');
        return this.send(conn, { type: 'ack', replyTo: msg.msgId });
      }
    }
  }
}

/** Bytes of a websocket message as `ws` delivers it (a Buffer, fragments, or an ArrayBuffer). */
function byteLength(data: unknown): number {
  if (Buffer.isBuffer(data) || data instanceof ArrayBuffer) return data.byteLength;
  if (Array.isArray(data)) return data.reduce((n: number, b: Buffer) => n + b.length, 0);
  return 0;
}
