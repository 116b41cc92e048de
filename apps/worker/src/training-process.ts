// A worker agent's training side: one long-lived child process (training-child.ts) that trains
// the agent's trials one after another, so the agent's event loop (socket, heartbeats, cancels,
// transfers) never waits behind a training step. A child process, not a worker thread: a crash in
// native code (the kernels, libtensorflow) or an out-of-memory kill ends the child, not the agent;
// a step stuck in native code is ended by a signal, where a worker thread's terminate() would wait
// for it; and agents sharing a process (tests, the demo) each get their own native thread pool and
// thread count, which are process-wide. It lives across trials, so the backend initializes and
// each corpus loads once; the price is one copy of a checkpoint through the IPC pipe (no transfer
// of memory between processes), tens of milliseconds for PTB-small's 19 MB.
import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { MetricPoint, PruneVerdict, TrialConfig, TrialResult } from '@lmsweep/protocol';
import { AbortedError, type TrialPaused, type TrialProgress } from '@lmsweep/nn';
import type { BackendChoice } from './agent.ts';
import { decodeError, type FromTraining, type ToTraining } from './training-wire.ts';

const ENTRY = new URL('./training-child-boot.mjs', import.meta.url);
/** A stopped run that has not ended this long after (a long step in native code) is ended by killing the process. */
export const ABORT_GRACE_MS = 5_000;
/** Stderr kept for the report of a process that died. */
const STDERR_TAIL = 4_000;

/** The training process ended during a trial (a crash, an out-of-memory kill, a signal): another attempt may well succeed. */
export class TrainingProcessDiedError extends Error {
  override name = 'TrainingProcessDiedError';
}

export interface TrainingSideOptions {
  backend: BackendChoice;
  wasmThreads?: number | undefined;
  native?: boolean | undefined;
  log: Logger;
}

export interface TrainingJob {
  config: TrialConfig;
  seed: number;
  baseline?: { trialId: string; sha256: string; checkpoint: Uint8Array };
  signal: AbortSignal;
  onStarted?: (info: { dataset: string; vocab: number }) => void;
  onProgress?: (p: TrialProgress) => void;
  onMetrics?: (points: MetricPoint[]) => void;
  /** The trained model's checkpoint, stored before the result: a rejection fails the run with that error. */
  onCheckpoint?: (data: Uint8Array) => Promise<void>;
  /**
   * Makes the run judged: after each step that measured valid_ppl (onMetrics had its points
   * first) training waits for this answer. continue trains on; pause ends the run paused there
   * (onResumeCheckpoint first); stop ends it there with a TrialStopped. A rejection counts as continue.
   */
  judge?: (step: number) => Promise<PruneVerdict['action']>;
  /** A paused run's resume checkpoint, stored before run() resolves with the TrialPaused: a rejection (or its absence) fails the run. */
  onResumeCheckpoint?: (data: Uint8Array, paused: TrialPaused) => Promise<void>;
  /** Continue a paused trial from its resume checkpoint (runTrial's resume: same config and seed). */
  resume?: { checkpoint: Uint8Array };
}

/** A judged run that its verdict stopped right after `step`: nothing was measured after it. */
export interface TrialStopped {
  stopped: true;
  step: number;
}

/** How a run ended, short of an error: trained to the end, paused by a verdict, or stopped by one. */
export type TrainingOutcome = TrialResult | TrialPaused | TrialStopped;

export const isStopped = (o: TrainingOutcome): o is TrialStopped => 'stopped' in o && o.stopped === true;

interface Child {
  proc: ChildProcess;
  /** Lines of stderr lately, for the report of its death. */
  stderr: string;
  /** Settled when the process has ended (and every message it sent was read). */
  closed: Promise<void>;
  /** What the process answered to init. */
  ready: Promise<{ backend: string; device: string }>;
  /** The baseline checkpoint it holds. */
  baseline?: { trialId: string; sha256: string };
  /** The run it is busy with, if any, and what its messages go to. */
  active?: { run: number; onMessage: (m: FromTraining) => void; onClose: (why: string) => void };
  /** Settled when the run it is busy with has ended there (answer or death). */
  idle: Promise<void>;
}

export class TrainingSide {
  private child: Child | null = null;
  private runs = 0;
  private closing = false;

  private constructor(private readonly opts: TrainingSideOptions) {}

  /** Starts the training process and selects its backend; throws that selection's error. */
  static async start(opts: TrainingSideOptions): Promise<{ side: TrainingSide; backend: { backend: string; device: string } }> {
    const side = new TrainingSide(opts);
    try {
      return { side, backend: await side.spawn().ready };
    } catch (e) {
      await side.close();
      throw e;
    }
  }

  /** The running process's pid (logs, tests). */
  pid(): number | undefined {
    return this.child?.proc.pid;
  }

  private spawn(): Child {
    const { log } = this.opts;
    const t0 = Date.now();
    // stdin ignored; stdout and stderr read (a library's console output, a crash's last words).
    const proc = fork(ENTRY, [], { serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    let readyOk!: (b: { backend: string; device: string }) => void;
    let readyFail!: (e: Error) => void;
    const ready = new Promise<{ backend: string; device: string }>((res, rej) => ((readyOk = res), (readyFail = rej)));
    ready.catch(() => undefined);
    const child: Child = { proc, stderr: '', closed: Promise.resolve(), ready, idle: Promise.resolve() };
    const lines = (source: 'stdout' | 'stderr') => (d: Buffer) => {
      const text = d.toString('utf8');
      if (source === 'stderr') child.stderr = (child.stderr + text).slice(-STDERR_TAIL);
      for (const line of text.split('\n')) if (line.trim()) log.info({ pid: proc.pid, source }, `training process: ${line.slice(0, 2_000)}`);
    };
    proc.stdout!.on('data', lines('stdout'));
    proc.stderr!.on('data', lines('stderr'));
    proc.on('error', (e) => log.warn({ err: e.message }, 'training process error'));
    child.closed = new Promise<void>((resolve) => {
      proc.once('close', (code, signal) => {
        const why = signal ? `signal ${signal}` : `exit code ${code}`;
        if (this.child === child) this.child = null;
        readyFail(new Error(`the training process ended before it was ready (${why})${tail(child.stderr)}`));
        child.active?.onClose(why);
        if (!this.closing) log.warn({ pid: proc.pid, why }, 'training process ended');
        resolve();
      });
    });
    proc.on('message', (m: FromTraining) => {
      if (m.type === 'ready') {
        log.info({ pid: proc.pid, ms: Date.now() - t0, backend: m.backend, device: m.device }, 'training process started');
        readyOk({ backend: m.backend, device: m.device });
      } else if (m.type === 'init-failed') readyFail(new Error(m.error));
      else if (m.type === 'log') log[m.level]({ pid: proc.pid, ...m.fields }, m.msg);
      else if ('run' in m && child.active?.run === m.run) child.active.onMessage(m);
    });
    this.child = child;
    const init: ToTraining = { type: 'init', backend: this.opts.backend, ...(this.opts.wasmThreads ? { wasmThreads: this.opts.wasmThreads } : {}), ...(this.opts.native !== undefined ? { native: this.opts.native } : {}) };
    proc.send(init);
    return child;
  }

  /**
   * Trains one trial in the training process (a fresh one if the last died). Resolves with its
   * result, or for a judged run (job.judge) with the TrialPaused or TrialStopped its verdict
   * made of it (isPaused, isStopped); rejects with the error it failed with there (AbortedError, DivergedError,
   * TrialConfigError, …), the onCheckpoint's, TrainingProcessDiedError, or AbortedError at once
   * when `signal` fires: the process stops at its next step boundary, or is killed after
   * ABORT_GRACE_MS, before the next run starts.
   */
  async run(job: TrainingJob): Promise<TrainingOutcome> {
    if (this.closing) throw new Error('the training side is closed');
    // The previous run may still be stopping there.
    await this.child?.idle;
    if (job.signal.aborted) throw new AbortedError(0, job.signal.reason);
    let child = this.child;
    if (!child) {
      this.opts.log.info('starting a fresh training process');
      child = this.spawn();
    }
    try {
      await child.ready;
    } catch (e) {
      throw new TrainingProcessDiedError(`the training process could not start: ${(e as Error).message}`);
    }
    const c = child;
    const run = ++this.runs;
    let endedHere!: () => void;
    c.idle = new Promise<void>((r) => (endedHere = r));
    return new Promise<TrainingOutcome>((resolve, reject) => {
      let settled = false;
      let lastStep = 0;
      let killTimer: NodeJS.Timeout | undefined;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        job.signal.removeEventListener('abort', onAbort);
        f();
      };
      const ended = () => {
        clearTimeout(killTimer);
        if (c.active?.run === run) c.active = undefined;
        endedHere();
      };
      const send = (m: ToTraining) => {
        if (c.proc.connected) c.proc.send(m);
      };
      const onAbort = () => {
        const reason = String(job.signal.reason ?? 'stop');
        send({ type: 'abort', run, reason });
        killTimer = setTimeout(() => {
          this.opts.log.warn({ pid: c.proc.pid, graceMs: ABORT_GRACE_MS }, 'the training process did not stop the trial in time; killing it');
          c.proc.kill('SIGKILL');
        }, ABORT_GRACE_MS);
        killTimer.unref();
        settle(() => reject(new AbortedError(lastStep, job.signal.reason)));
      };
      c.active = {
        run,
        onClose: (why) => {
          ended();
          settle(() => reject(new TrainingProcessDiedError(`the training process ended during the trial (${why})${tail(c.stderr)}`)));
        },
        onMessage: (m) => {
          switch (m.type) {
            case 'started':
              if (!settled) job.onStarted?.(m);
              break;
            case 'progress':
              lastStep = m.progress.step;
              if (!settled) job.onProgress?.(m.progress);
              break;
            case 'metrics':
              if (!settled) job.onMetrics?.(m.points);
              break;
            case 'checkpoint':
            case 'resume-checkpoint': {
              const store = m.type === 'checkpoint' ? job.onCheckpoint?.bind(job, m.data) : job.onResumeCheckpoint?.bind(job, m.data, m.paused);
              if (settled || !store) return send({ type: 'stored', run, ok: false });
              store().then(
                () => send({ type: 'stored', run, ok: true }),
                (e: unknown) => {
                  send({ type: 'stored', run, ok: false });
                  settle(() => reject(e));
                },
              );
              break;
            }
            case 'judge': {
              const { step } = m;
              const answer = (action: PruneVerdict['action']) => {
                if (!settled) send({ type: 'verdict', run, step, action });
              };
              if (!job.judge) answer('continue');
              else job.judge(step).then(answer, () => answer('continue'));
              break;
            }
            case 'result':
              ended();
              settle(() => resolve(m.result));
              break;
            case 'paused':
              ended();
              settle(() => resolve(m.paused));
              break;
            case 'stopped':
              ended();
              settle(() => resolve({ stopped: true, step: m.step }));
              break;
            case 'failed':
              ended();
              settle(() => reject(decodeError(m.error)));
              break;
          }
        },
      };
      job.signal.addEventListener('abort', onAbort, { once: true });
      const b = job.baseline;
      const sameBaseline = b && c.baseline && c.baseline.trialId === b.trialId && c.baseline.sha256 === b.sha256;
      send({
        type: 'run',
        run,
        config: job.config,
        seed: job.seed,
        saveCheckpoint: Boolean(job.onCheckpoint),
        ...(job.judge ? { judged: true } : {}),
        ...(job.resume ? { resume: job.resume } : {}),
        ...(b ? { baseline: { trialId: b.trialId, sha256: b.sha256, ...(sameBaseline ? {} : { checkpoint: b.checkpoint }) } } : {}),
      });
      if (b) c.baseline = { trialId: b.trialId, sha256: b.sha256 };
    });
  }

  /** Ends the training process (a run in it is given up: the agent has released or reported it). */
  async close(): Promise<void> {
    this.closing = true;
    const c = this.child;
    if (!c) return;
    c.proc.kill('SIGTERM');
    const t = setTimeout(() => c.proc.kill('SIGKILL'), 2_000);
    await c.closed;
    clearTimeout(t);
  }
}

const tail = (stderr: string) => {
  const t = stderr.trim();
  return t ? `: ${t.slice(-1_000)}` : '';
};
