// The worker agent: connect, claim, train, heartbeat, report. It never touches the database.
// Results wait in an outbox until the coordinator acknowledges them, so a coordinator restart
// or a dropped connection loses nothing; the coordinator's fencing makes resends harmless.
// Training runs in a child process of the agent's (training-process.ts): this event loop keeps
// the socket, heartbeats, cancels and checkpoint transfers on time whatever a step costs.
// A judged trial (a pruned sweep's) waits at each validation point for the coordinator's verdict,
// which comes on the ack to the metric message holding the point: train on, pause (store the
// resume checkpoint, say `paused`) or stop (pruned: the coordinator recorded it, nothing more is sent).
import os from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import pino, { type Logger } from 'pino';
import {
  type AssignedTrial,
  CoordinatorMessage,
  decodeJson,
  encodeMessage,
  MAX_MESSAGE_BYTES,
  type MetricPoint,
  PROTOCOL_VERSION,
  type PruneVerdict,
  resumeArtifactName,
  TrialConfig,
  VERDICT_WAIT_MS,
  VERSION,
  WORKER_PATH,
  type WorkerMessage,
} from '@lmsweep/protocol';
import { AbortedError, DivergedError, isPaused, TrialConfigError } from '@lmsweep/nn';
import { progressLine, type ProgressLine } from './progress.ts';
import { downloadArtifact, LeaseLostError, TransferRefusedError, uploadArtifact } from './artifacts.ts';
import { isStopped, TrainingSide } from './training-process.ts';
import { VerdictBook } from './verdicts.ts';

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface WorkerOptions {
  coordinatorUrl: string;
  backend?: BackendChoice;
  name?: string;
  /** No progress bar. */
  quiet?: boolean;
  log?: Logger;
  /** Stop after this many trials (tests, and one-shot runs). */
  maxTrials?: number;
  /** Stop when the coordinator has nothing to hand out. */
  exitWhenIdle?: boolean;
  /** Reconnect backoff: first delay and cap. */
  reconnectMs?: { first: number; max: number };
  /** The coordinator's worker token (LMSWEEP_WORKER_TOKEN there), sent in hello. */
  token?: string;
  /** The Slurm job this worker runs in ("1234_0"), sent in hello so the workers page shows it. */
  slurmJob?: string;
  /** Threads of the wasm backend (default 1): the native kernels' where they were built (see nn's SelectBackendOptions). */
  wasmThreads?: number;
  /** Native kernels on the wasm backend where they were built (default true). */
  native?: boolean;
  /**
   * The agent pings the coordinator this often and reconnects when a ping went unanswered
   * (nothing heard since the previous one): a coordinator that died without closing the socket
   * is noticed in two intervals, not when TCP gives up minutes later. Default 15 s.
   */
  keepaliveMs?: number;
  /** How long a judged trial waits for the verdict on a validation point before it trains on (default VERDICT_WAIT_MS; tests shorten it). */
  verdictWaitMs?: number;
  /** Checkpoint transfers: tries before the attempt fails, and the backoff between them (artifacts.ts defaults). */
  transfer?: { tries?: number; retryMs?: { first: number; max: number } };
}

/** The coordinator refused this worker's token: retrying will not help, so the agent stops. */
export class UnauthorizedError extends Error {
  override name = 'UnauthorizedError';
}

export interface WorkerHandle {
  readonly name: string;
  workerId(): string | null;
  backend: { backend: string; device: string };
  /** Resolves when the agent has stopped; rejects with UnauthorizedError when its token is refused. */
  done: Promise<void>;
  /** Stops cleanly: the running trial is released back to the queue, not lost. */
  stop(): Promise<void>;
}

type Outgoing = WorkerMessage extends infer M ? (M extends { msgId: string } ? Omit<M, 'msgId'> : never) : never;
const PROGRESS_BEAT_MS = 2_000;
const KEEPALIVE_MS = 15_000;
type Reply = Exclude<CoordinatorMessage, { type: 'cancel' }>;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

export function workerUrl(coordinatorUrl: string): string {
  const u = new URL(coordinatorUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = WORKER_PATH;
  return u.toString();
}

export async function startWorker(opts: WorkerOptions): Promise<WorkerHandle> {
  const log = (opts.log ?? pino({ level: process.env.LMSWEEP_LOG_LEVEL ?? 'warn' }, pino.destination(2))).child({ worker: opts.name ?? defaultName() });
  // The training process selects the backend: an explicit choice that cannot load fails here, as before.
  const { side, backend } = await TrainingSide.start({ backend: opts.backend ?? 'auto', wasmThreads: opts.wasmThreads, native: opts.native, log });
  const agent = new Agent(opts, log, backend, side);
  agent.done = agent.run();
  return agent;
}

const defaultName = () => `${os.hostname()}-${process.pid}`;

class Agent implements WorkerHandle {
  readonly name: string;
  done: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly stopper = new AbortController();
  private ws: WebSocket | null = null;
  private id: string | null = null;
  private heartbeatMs = 10_000;
  private seq = 0;
  private readonly session = randomBytes(4).toString('hex');
  /** Messages awaiting an ack, in send order; resent after every reconnect. */
  private readonly outbox = new Map<string, WorkerMessage>();
  private readonly waiting = new Map<string, { resolve: (m: Reply) => void; reject: (e: Error) => void }>();
  /**
   * Metric messages of a judged trial holding a validation point, by msgId: their ack carries the
   * verdict. Unlike `waiting`, kept across reconnects (the outbox resends under the same msgId).
   */
  private readonly verdictRoutes = new Map<string, VerdictBook>();
  /** The trial in progress; verdicts: a judged one's; prunedAt: the step a stop verdict came for outside a wait. */
  private current: { trial: AssignedTrial; abort: AbortController; verdicts?: VerdictBook; prunedAt?: number } | null = null;
  private readonly bar: ProgressLine | null;
  private trialsDone = 0;
  private fatal: Error | null = null;
  private readonly verdictWaitMs: number;
  /** The last checkpoint downloaded: compression trials of one baseline come one after another. */
  private cachedCheckpoint: { trialId: string; sha256: string; data: Uint8Array } | null = null;

  constructor(
    private readonly opts: WorkerOptions,
    log: Logger,
    readonly backend: { backend: string; device: string },
    private readonly training: TrainingSide,
  ) {
    this.name = opts.name ?? defaultName();
    this.log = log;
    this.verdictWaitMs = opts.verdictWaitMs ?? VERDICT_WAIT_MS;
    this.bar = opts.quiet ? null : progressLine();
  }

  workerId() {
    return this.id;
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    this.current?.abort.abort('stop');
    await this.done.catch(() => {}); // a refused token already ended the run; stopping is still fine
  }

  // ---- connection ----

  private nextId(): string {
    return `${this.session}-${++this.seq}`;
  }

  private connected(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.id !== null;
  }

  private connecting: Promise<boolean> | null = null;

  /** Connects (with backoff) and says hello; resends the outbox. One attempt in flight at a time. */
  private ensureConnected(): Promise<boolean> {
    if (this.connected()) return Promise.resolve(true);
    this.connecting ??= this.connectWithBackoff().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connectWithBackoff(): Promise<boolean> {
    const { first, max } = this.opts.reconnectMs ?? { first: 250, max: 10_000 };
    let delay = first;
    while (!this.stopper.signal.aborted) {
      if (this.connected()) return true;
      try {
        await this.connectOnce();
        for (const msg of this.outbox.values()) this.ws!.send(encodeMessage(msg));
        return true;
      } catch (e) {
        if (e instanceof UnauthorizedError) {
          this.log.error({ err: e.message }, 'coordinator refused the worker token; stopping');
          this.fatal = e;
          this.stopper.abort();
          return false;
        }
        this.log.warn({ err: (e as Error).message, retryMs: delay }, 'coordinator unreachable; retrying');
        await sleep(delay * (0.75 + Math.random() * 0.5), this.stopper.signal);
        delay = Math.min(max, delay * 2);
      }
    }
    return false;
  }

  private connectOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(workerUrl(this.opts.coordinatorUrl), { maxPayload: MAX_MESSAGE_BYTES, handshakeTimeout: 5_000 });
      const fail = (e: Error) => {
        ws.removeAllListeners();
        ws.on('error', () => undefined); // terminate() before the handshake ends emits one more
        ws.terminate();
        reject(e);
      };
      ws.once('error', fail);
      // Refused at the upgrade (a Host not the coordinator's, too many sockets from this address):
      // say what the coordinator said, not only the status.
      ws.once('unexpected-response', (req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body = (body + d).slice(0, 500)));
        res.on('end', () => {
          req.destroy();
          fail(new Error(`the coordinator refused the connection: HTTP ${res.statusCode}${body.trim() ? `: ${body.trim()}` : ''}`));
        });
        res.on('error', () => fail(new Error(`the coordinator refused the connection: HTTP ${res.statusCode}`)));
      });
      ws.once('open', () => {
        ws.removeListener('error', fail);
        this.ws = ws;
        const stopKeepalive = this.keepalive(ws);
        ws.on('message', (data) => this.onMessage(String(data)));
        ws.on('error', (e) => this.log.warn({ err: e.message }, 'socket error'));
        ws.on('close', () => {
          stopKeepalive();
          if (this.ws === ws) {
            this.ws = null;
            this.id = null;
          }
          for (const w of this.waiting.values()) w.reject(new Error('connection closed'));
          this.waiting.clear();
          // Reconnect in the background, also mid-trial, so heartbeats resume before the lease runs out.
          if (!this.stopper.signal.aborted) setTimeout(() => void this.ensureConnected(), 0);
        });
        const msgId = this.nextId();
        this.waiting.set(msgId, {
          resolve: (m) => {
            if (m.type === 'error' && m.code === 'UNAUTHORIZED') return reject(new UnauthorizedError(m.message));
            if (m.type !== 'welcome') return reject(new Error(m.type === 'error' ? m.message : `unexpected ${m.type}`));
            this.id = m.workerId;
            this.key = m.workerKey;
            this.heartbeatMs = m.heartbeatMs;
            this.log.info({ workerId: m.workerId }, 'connected');
            resolve();
          },
          reject,
        });
        const b = this.backend;
        ws.send(encodeMessage({ type: 'hello', msgId, protocol: PROTOCOL_VERSION, workerId: this.id ?? this.lastId ?? undefined, ...(this.key ? { workerKey: this.key } : {}), name: this.name, host: os.hostname(), backend: b.backend, device: b.device, version: VERSION, ...(this.opts.token ? { token: this.opts.token } : {}), ...(this.opts.slurmJob ? { slurmJob: this.opts.slurmJob } : {}) }));
      });
    });
  }

  /**
   * Pings the coordinator every keepaliveMs and cuts the socket (which reconnects) when nothing
   * came back since the previous ping. A round that comes late (this process's event loop was
   * blocked, e.g. loading a corpus) cuts nothing: the answer may be waiting unread. Returns the stop.
   */
  private keepalive(ws: WebSocket): () => void {
    const every = this.opts.keepaliveMs ?? KEEPALIVE_MS;
    let alive = true;
    let last = Date.now();
    const heard = () => (alive = true);
    ws.on('pong', heard);
    ws.on('message', heard);
    const timer = setInterval(() => {
      const now = Date.now();
      const late = now - last > 1.5 * every;
      last = now;
      if (!alive && !late) {
        this.log.warn({ silentMs: 2 * every }, 'coordinator not answering pings; reconnecting');
        ws.terminate();
        return;
      }
      alive = false;
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, every);
    timer.unref();
    return () => clearInterval(timer);
  }

  private lastId: string | null = null;
  /** The secret the coordinator gave this worker's id. */
  private key: string | null = null;

  private onMessage(text: string): void {
    let msg: CoordinatorMessage;
    try {
      msg = CoordinatorMessage.parse(decodeJson(text));
    } catch {
      this.log.warn({ text: text.slice(0, 200) }, 'unreadable message from coordinator');
      return;
    }
    if (msg.type === 'welcome') this.lastId = msg.workerId;
    if (msg.type === 'cancel' || (msg.type === 'error' && msg.code === 'LEASE_LOST' && msg.trialId)) {
      if (this.current && this.current.trial.id === msg.trialId) {
        this.log.warn({ trialId: msg.trialId, why: msg.type === 'cancel' ? msg.reason : 'lease lost' }, 'stopping trial');
        this.current.abort.abort(msg.type === 'cancel' ? 'cancelled' : 'lease-lost');
      }
    }
    if ('replyTo' in msg && msg.replyTo) {
      // An ack or a refusal settles an outbox entry either way: a refused report will never be accepted.
      this.outbox.delete(msg.replyTo);
      const book = this.verdictRoutes.get(msg.replyTo);
      if (book) {
        this.verdictRoutes.delete(msg.replyTo);
        if (msg.type === 'ack' && msg.verdict) this.onVerdict(book, msg.verdict);
      }
      const w = this.waiting.get(msg.replyTo);
      if (w) {
        this.waiting.delete(msg.replyTo);
        w.resolve(msg as Reply);
      }
    }
  }

  /**
   * A verdict on the running trial's validation point. One that answers the training process's
   * question takes effect through it; a stop outside that (before the question, or after its wait
   * gave up) ends the trial now, the coordinator having recorded it pruned; a late pause cannot
   * be honoured (that step is trained past) and is logged.
   */
  private onVerdict(book: VerdictBook, v: PruneVerdict): void {
    const cur = this.current;
    if (!cur || cur.verdicts !== book) return; // that trial is over
    const filed = book.file(v);
    if (filed === 'answered') return;
    const fields = { trialId: cur.trial.id, attempt: cur.trial.attempt, step: v.step };
    if (v.action === 'stop') {
      this.log.info({ ...fields, filed, ...(v.reason ? { reason: v.reason } : {}) }, `pruned at step ${v.step}`);
      cur.prunedAt = v.step;
      cur.abort.abort('pruned');
    } else if (v.action === 'pause' && filed === 'late') {
      this.log.warn({ ...fields, waitMs: this.verdictWaitMs }, `a pause verdict on step ${v.step} came after its wait gave up; training on`);
    }
  }

  /** Sends a message that must arrive (metrics, results): kept until acknowledged. Returns its msgId. */
  private deliver(m: Outgoing): string {
    const msg = { ...m, msgId: this.nextId() } as WorkerMessage;
    this.outbox.set(msg.msgId, msg);
    if (this.connected()) this.ws!.send(encodeMessage(msg));
    return msg.msgId;
  }

  /** Sends a message that may be lost (heartbeats). */
  private sendEphemeral(m: Outgoing): void {
    if (this.connected()) this.ws!.send(encodeMessage({ ...m, msgId: this.nextId() }));
  }

  private request(m: Outgoing, timeoutMs = 30_000): Promise<Reply> {
    return new Promise((resolve, reject) => {
      if (!this.connected()) return reject(new Error('not connected'));
      const msgId = this.nextId();
      const timer = setTimeout(() => {
        this.waiting.delete(msgId);
        reject(new Error(`no reply to ${m.type} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(msgId, {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.ws!.send(encodeMessage({ ...m, msgId }));
    });
  }

  private async flushOutbox(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.outbox.size > 0 && Date.now() < until) {
      if (!this.connected()) {
        if (this.stopper.signal.aborted) {
          try {
            await this.connectOnce();
            for (const msg of this.outbox.values()) this.ws!.send(encodeMessage(msg));
          } catch {
            await sleep(200);
          }
        } else await this.ensureConnected();
      }
      await sleep(20);
    }
  }

  // ---- main loop ----

  async run(): Promise<void> {
    try {
      while (!this.stopper.signal.aborted) {
        if (this.opts.maxTrials !== undefined && this.trialsDone >= this.opts.maxTrials) break;
        if (!(await this.ensureConnected())) break;
        let reply: Reply;
        try {
          reply = await this.request({ type: 'claim' });
        } catch {
          continue; // connection dropped: reconnect and ask again
        }
        if (reply.type === 'idle') {
          if (this.opts.exitWhenIdle) break;
          await sleep(reply.retryMs, this.stopper.signal);
          continue;
        }
        if (reply.type !== 'assign') {
          this.log.warn({ reply }, 'unexpected reply to claim');
          await sleep(1000, this.stopper.signal);
          continue;
        }
        await this.runTrial(reply.trial);
        this.trialsDone++;
      }
    } finally {
      await this.training.close();
      await this.flushOutbox(5_000);
      this.ws?.close(1000, 'worker stopping');
      this.ws = null;
    }
    if (this.fatal) throw this.fatal;
  }

  private async runTrial(trial: AssignedTrial): Promise<void> {
    const abort = new AbortController();
    const verdicts = trial.judged ? new VerdictBook() : undefined;
    const current: NonNullable<Agent['current']> = { trial, abort, ...(verdicts ? { verdicts } : {}) };
    this.current = current;
    // A stop that came while the claim was in flight (the trial assigned, not yet started)
    // must release this trial too, not let it run to the end.
    const onStop = () => abort.abort('stop');
    if (this.stopper.signal.aborted) onStop();
    else this.stopper.signal.addEventListener('abort', onStop, { once: true });
    const log = this.log.child({ trialId: trial.id, sweepId: trial.sweepId, attempt: trial.attempt });
    const base = { trialId: trial.id, attempt: trial.attempt };
    let progress = 0;
    let eta: number | undefined;
    let lastBeat = 0;
    const beat = () => (lastBeat = Date.now()) && this.sendEphemeral({ type: 'heartbeat', ...base, progress, ...(eta !== undefined && Number.isFinite(eta) ? { etaSeconds: eta } : {}) });
    beat();
    const timer = setInterval(beat, this.heartbeatMs);
    const label = `trial ${trial.id.slice(0, 10)}#${trial.attempt}`;
    try {
      const parsed = TrialConfig.safeParse(trial.config);
      if (!parsed.success) {
        this.deliver({ type: 'fail', ...base, kind: 'error', retryable: false, error: `invalid trial config: ${parsed.error.message}` });
        return;
      }
      const config = parsed.data;
      const transfer = {
        coordinatorUrl: this.opts.coordinatorUrl,
        token: this.opts.token,
        signal: abort.signal,
        ...this.opts.transfer,
        onRetry: (error: string, delayMs: number) => log.warn({ error, retryMs: delayMs }, 'checkpoint transfer failed; retrying'),
      };
      const worker = () => {
        const id = this.id ?? this.lastId;
        return id && this.key ? { id, key: this.key } : null;
      };
      let baseline: { trialId: string; sha256: string; checkpoint: Uint8Array } | undefined;
      let resume: { checkpoint: Uint8Array } | undefined;
      if (trial.resume) {
        // A promoted trial continues from its resume checkpoint, which holds its compressed model: no baseline needed.
        const { name, step, sha256, bytes } = trial.resume;
        resume = { checkpoint: await downloadArtifact(trial.id, { sha256, bytes }, transfer, name) };
        log.info({ step, artifact: name, bytes }, `resuming after step ${step}`);
      } else if (trial.parent) {
        const { trialId, sha256 } = trial.parent;
        const cached = this.cachedCheckpoint;
        const data = cached && cached.trialId === trialId && cached.sha256 === sha256 ? cached.data : await downloadArtifact(trialId, trial.parent, transfer);
        this.cachedCheckpoint = { trialId, sha256, data };
        baseline = { trialId, sha256, checkpoint: data };
      }
      /** The trial's steps, from its progress: the point after the last is not judged. */
      let totalSteps: number | undefined;
      /** The digest of the resume checkpoint stored, for `paused`. */
      let resumeSha256: string | undefined;
      beat(); // refresh the lease right before training
      const outcome = await this.training.run({
        config,
        seed: trial.seed,
        signal: abort.signal,
        onStarted: ({ dataset, vocab }) => log.info({ dataset, vocab, trainingPid: this.training.pid() }, 'trial started'),
        onProgress: (p) => {
          totalSteps = p.totalSteps;
          progress = p.progress;
          eta = p.etaSeconds;
          // Progress rides on heartbeats; send one early when the last is a while ago, so short
          // trials show movement without waiting for the lease-driven beat.
          if (Date.now() - lastBeat > PROGRESS_BEAT_MS) beat();
          this.bar?.update({ label, fraction: p.progress, detail: `step ${p.step}/${p.totalSteps} loss ${p.trainLoss.toFixed(3)} ${Math.round(p.tokensPerSecond)} tok/s`, etaSeconds: p.etaSeconds });
        },
        onMetrics: (points: MetricPoint[]) => {
          for (let i = 0; i < points.length; i += 1000) {
            const chunk = points.slice(i, i + 1000);
            // The training process asks about a validation point after a step before the last: that one is judged.
            const last = verdicts ? chunk.findLast((p) => p.name === 'valid_ppl') : undefined;
            const judge = last !== undefined && last.step > 0 && (totalSteps === undefined || last.step < totalSteps);
            const msgId = this.deliver({ type: 'metric', ...base, points: chunk, ...(judge ? { judge: true } : {}) });
            if (judge) this.verdictRoutes.set(msgId, verdicts!);
          }
        },
        ...(baseline ? { baseline } : {}),
        ...(resume ? { resume } : {}),
        // Other trials start from this one: its checkpoint is stored before it may complete.
        ...(trial.saveCheckpoint ? { onCheckpoint: (data: Uint8Array) => uploadArtifact(trial, worker, data, transfer) } : {}),
        ...(verdicts
          ? {
              judge: async (step: number) => {
                const v = await verdicts.wait(step, this.verdictWaitMs, abort.signal);
                if (!v) {
                  // A cancel or a lost lease ends the run through the signal; otherwise no verdict is no reason to stop.
                  if (!abort.signal.aborted) log.warn({ step, waitMs: this.verdictWaitMs }, `no verdict on step ${step} in time; training on`);
                  return 'continue' as const;
                }
                if (v.action !== 'continue') log.info({ step, rung: v.rung, value: v.value, threshold: v.threshold, reason: v.reason }, `verdict on step ${step}: ${v.action}`);
                return v.action;
              },
              onResumeCheckpoint: async (data: Uint8Array) => {
                await uploadArtifact(trial, worker, data, transfer, resumeArtifactName(trial.attempt));
                resumeSha256 = createHash('sha256').update(data).digest('hex');
              },
            }
          : {}),
      });
      if (isStopped(outcome)) {
        // The coordinator recorded it pruned with the verdict: nothing more to say about it.
        this.bar?.done(`${label} pruned at step ${outcome.step}`);
        log.info({ step: outcome.step }, `pruned at step ${outcome.step}`);
        return;
      }
      if (isPaused(outcome)) {
        this.bar?.done(`${label} paused at step ${outcome.step}/${outcome.totalSteps}`);
        log.info({ step: outcome.step, seconds: outcome.seconds }, `paused at step ${outcome.step}`);
        this.deliver({ type: 'paused', ...base, step: outcome.step, sha256: resumeSha256!, seconds: outcome.seconds });
        return;
      }
      const result = outcome;
      this.bar?.done(`${label} done: valid ppl ${result.validPpl.toFixed(1)}, test ppl ${result.testPpl.toFixed(1)}, ${result.params} params`);
      this.deliver({ type: 'complete', ...base, result });
    } catch (e) {
      // Pruned outside a wait for its verdict: onVerdict logged it and stopped the run.
      const pruned = abort.signal.reason === 'pruned';
      this.bar?.done(pruned ? `${label} pruned at step ${current.prunedAt}` : undefined);
      if (e instanceof LeaseLostError) {
        log.warn({ err: e.message }, 'lease lost while storing the checkpoint; dropping the trial');
      } else if (e instanceof AbortedError || abort.signal.aborted) {
        const why = String(abort.signal.reason ?? 'stop');
        if (!pruned) log.info({ why }, 'trial stopped');
        if (why === 'stop') this.deliver({ type: 'release', ...base, reason: 'worker stopping' });
      } else if (e instanceof TransferRefusedError) {
        log.error({ err: e.message }, 'checkpoint transfer refused');
        this.deliver({ type: 'fail', ...base, kind: 'error', retryable: e.retryable, error: `checkpoint transfer refused: ${e.message}` });
      } else if (e instanceof TrialConfigError) {
        log.error({ err: e.message }, 'trial cannot run as configured');
        this.deliver({ type: 'fail', ...base, kind: 'error', retryable: false, error: e.message });
      } else if (e instanceof DivergedError) {
        log.warn({ step: e.step }, 'trial diverged');
        this.deliver({ type: 'fail', ...base, kind: 'diverged', retryable: false, error: e.message });
      } else {
        const err = e as Error;
        const oom = /out of memory|allocation failed|OOM/i.test(err.message ?? '');
        log.error({ err }, 'trial failed');
        this.deliver({ type: 'fail', ...base, kind: oom ? 'oom' : 'error', retryable: true, error: `${err.name}: ${err.message}`.slice(0, 20_000) });
      }
    } finally {
      clearInterval(timer);
      this.stopper.signal.removeEventListener('abort', onStop);
      for (const [msgId, book] of this.verdictRoutes) if (book === verdicts) this.verdictRoutes.delete(msgId);
      this.current = null;
    }
  }
}
