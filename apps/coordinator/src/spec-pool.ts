// Spec checking off the event loop: `sweeps.validate` is open to anyone, and a 10,000-trial spec
// takes tens of milliseconds to check and expand (and as long to plan an extension of). Here it runs on worker threads (spec-thread.ts),
// so heartbeats, claims and reads are answered meanwhile; a bounded queue refuses the excess
// (BUSY) instead of letting the backlog grow, and a job that runs too long costs its thread.
//
// Two lanes, so anonymous work cannot starve authorised work: `write` (launches, and checks by a
// caller who may launch) and `read` (anonymous validations). Each has its own queue and bound; a
// thread that frees takes the next write job first, and read jobs run on at most `threads`
// threads while write jobs may also use one more, spawned when every thread is busy: a launch
// never waits behind anonymous validations, only behind other launches.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { SpecError } from '@lmsweep/protocol';
import type { ExtensionJob, PreparedSweep, SpecInput, SweepExtensionPlan } from '@lmsweep/sweep';
import { SpecChecksBusyError, type SpecChecks, type SpecValidationAnswer, type ValidateOptions } from '@lmsweep/api';
import type { SpecJob, SpecJobResult } from './spec-thread.ts';

export interface SpecPoolOptions {
  /** Threads (default: one per core beyond the first, at most 4, at least 1). */
  threads?: number;
  /**
   * Jobs of one lane waiting for a thread before more of that lane are refused with BUSY (default
   * 32). A job that a thread can take at once is never refused: 0 means "no waiting".
   */
  maxQueued?: number;
  /** A job running longer than this is abandoned and its thread replaced (default 30 s). */
  timeoutMs?: number;
  /** Directory dataset names are resolved against (default: the process's). */
  cwd?: string;
  log?: Logger;
}

type JobBody = { op: 'prepare'; input: SpecInput } | { op: 'validate'; input: string; files: boolean } | { op: 'extend'; job: ExtensionJob };

/** `write`: launches and a launcher's checks; `read`: anonymous validations. */
export type SpecLane = 'write' | 'read';

interface Pending {
  id: number;
  lane: SpecLane;
  body: JobBody;
  resolve: (v: PreparedSweep | SpecValidationAnswer | SweepExtensionPlan) => void;
  reject: (e: Error) => void;
}

interface Thread {
  worker: Worker;
  job: Pending | null;
  timer: NodeJS.Timeout | null;
}

/** The thread loads TypeScript the way the CLI does (tsx), then spec-thread.ts. */
const THREAD_ENTRY = new URL('./spec-thread-boot.mjs', import.meta.url);

export class SpecPool implements SpecChecks {
  private readonly threads = new Set<Thread>();
  private readonly queues: Record<SpecLane, Pending[]> = { write: [], read: [] };
  private readonly size: number;
  private readonly maxQueued: number;
  private readonly timeoutMs: number;
  private readonly cwd: string;
  private readonly log: Logger | undefined;
  private nextId = 1;
  private closed = false;

  constructor(opts: SpecPoolOptions = {}) {
    this.size = Math.max(1, opts.threads ?? Math.min(4, availableParallelism() - 1));
    this.maxQueued = opts.maxQueued ?? 32;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.cwd = opts.cwd ?? process.cwd();
    this.log = opts.log;
  }

  /** Checks and expands a spec for launch (the write lane). */
  prepare(input: SpecInput, lane: SpecLane = 'write'): Promise<PreparedSweep> {
    return this.submit({ op: 'prepare', input }, lane) as Promise<PreparedSweep>;
  }

  /** Checks a spec (the write lane when it may look at files, i.e. for a caller who may launch; else read). */
  validate(input: string, opts: ValidateOptions, lane: SpecLane = opts.files ? 'write' : 'read'): Promise<SpecValidationAnswer> {
    return this.submit({ op: 'validate', input, files: opts.files }, lane) as Promise<SpecValidationAnswer>;
  }

  extend(job: ExtensionJob): Promise<SweepExtensionPlan> {
    return this.submit({ op: 'extend', job }, 'write') as Promise<SweepExtensionPlan>;
  }

  /** Jobs running or waiting (for tests and logs). */
  get backlog(): number {
    return this.queues.write.length + this.queues.read.length + [...this.threads].filter((t) => t.job).length;
  }

  /** Threads started (at most `threads` + 1: the one more only write jobs make). */
  get threadCount(): number {
    return this.threads.size;
  }

  /** Jobs running now, by lane. */
  get running(): Record<SpecLane, number> {
    const jobs = [...this.threads].map((t) => t.job?.lane);
    return { write: jobs.filter((l) => l === 'write').length, read: jobs.filter((l) => l === 'read').length };
  }

  async close(): Promise<void> {
    this.closed = true;
    const gone = new Error('the coordinator is shutting down');
    for (const p of [...this.queues.write.splice(0), ...this.queues.read.splice(0)]) p.reject(gone);
    await Promise.all(
      [...this.threads].map((t) => {
        if (t.timer) clearTimeout(t.timer);
        t.job?.reject(gone);
        t.job = null;
        return t.worker.terminate();
      }),
    );
    this.threads.clear();
  }

  private submit(body: JobBody, lane: SpecLane): Promise<PreparedSweep | SpecValidationAnswer | SweepExtensionPlan> {
    if (this.closed) return Promise.reject(new Error('the coordinator is shutting down'));
    // Refused only when it would have to wait and its lane's queue is full.
    const startsNow = this.queues[lane].length === 0 && this.threadFor(lane) !== null;
    if (!startsNow && this.queues[lane].length >= this.maxQueued) {
      const what = lane === 'write' ? 'launches' : 'specs';
      return Promise.reject(new SpecChecksBusyError(`the coordinator has ${this.backlog} ${what} to check already; retry in a moment`));
    }
    return new Promise((resolve, reject) => {
      this.queues[lane].push({ id: this.nextId++, lane, body, resolve, reject });
      this.pump();
    });
  }

  /**
   * The thread a job of `lane` may run on now ('spawn': a new one may be started), or null: an
   * idle thread, or a new one while fewer than threads + 1 run; read jobs only while fewer than
   * `threads` of them run, so one thread is always left to write jobs.
   */
  private threadFor(lane: SpecLane): Thread | 'spawn' | null {
    if (lane === 'read' && [...this.threads].filter((t) => t.job?.lane === 'read').length >= this.size) return null;
    const idle = [...this.threads].find((t) => !t.job);
    if (idle) return idle;
    return this.threads.size < this.size + 1 ? 'spawn' : null;
  }

  private pump(): void {
    for (;;) {
      const lane: SpecLane | null = this.queues.write.length && this.threadFor('write') ? 'write' : this.queues.read.length && this.threadFor('read') ? 'read' : null;
      if (!lane) return;
      const free = this.threadFor(lane)!;
      const t = free === 'spawn' ? this.spawn() : free;
      const job = this.queues[lane].shift()!;
      t.job = job;
      t.timer = setTimeout(() => this.abandon(t, new SpecChecksBusyError(`checking the spec took over ${this.timeoutMs / 1000} s; the coordinator is overloaded, retry later`)), this.timeoutMs);
      t.worker.postMessage({ id: job.id, ...job.body, cwd: this.cwd } satisfies SpecJob);
    }
  }

  private spawn(): Thread {
    const worker = new Worker(THREAD_ENTRY, { resourceLimits: { maxOldGenerationSizeMb: 512 } });
    const thread: Thread = { worker, job: null, timer: null };
    // A thread never keeps the process alive by itself (an unanswered request does).
    worker.unref();
    worker.on('message', (r: SpecJobResult) => {
      const job = thread.job;
      if (!job || job.id !== r.id) return;
      if (thread.timer) clearTimeout(thread.timer);
      thread.job = null;
      thread.timer = null;
      if (r.ok) job.resolve(r.value);
      else if ('issues' in r) job.reject(new SpecError(r.issues));
      else job.reject(new Error(`spec check failed: ${r.error}`));
      this.pump();
    });
    worker.on('error', (e) => this.abandon(thread, new Error(`spec check failed: ${e.message}`)));
    worker.on('exit', (code) => this.abandon(thread, new Error(`spec-checking thread exited (${code})`)));
    this.threads.add(thread);
    return thread;
  }

  /** The thread is lost (crashed, ran out of memory, timed out): fail its job, replace it on demand. */
  private abandon(thread: Thread, why: Error): void {
    if (!this.threads.delete(thread)) return;
    if (thread.timer) clearTimeout(thread.timer);
    const job = thread.job;
    thread.job = null;
    void thread.worker.terminate();
    if (job) {
      this.log?.warn({ err: why }, 'spec check abandoned');
      job.reject(why);
    }
    if (!this.closed) this.pump();
  }
}
