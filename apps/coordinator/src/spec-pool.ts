// Spec checking off the event loop: `sweeps.validate` is open to anyone, and a 10,000-trial spec
// takes tens of milliseconds to check and expand (and as long to plan an extension of). Here it runs on worker threads (spec-thread.ts),
// so heartbeats, claims and reads are answered meanwhile; a bounded queue refuses the excess
// (BUSY) instead of letting the backlog grow, and a job that runs too long costs its thread.
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
  /** Jobs waiting for a thread before more are refused with BUSY (default 32). */
  maxQueued?: number;
  /** A job running longer than this is abandoned and its thread replaced (default 30 s). */
  timeoutMs?: number;
  /** Directory dataset names are resolved against (default: the process's). */
  cwd?: string;
  log?: Logger;
}

type JobBody = { op: 'prepare'; input: SpecInput } | { op: 'validate'; input: string; files: boolean } | { op: 'extend'; job: ExtensionJob };

interface Pending {
  id: number;
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
  private readonly queue: Pending[] = [];
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

  prepare(input: SpecInput): Promise<PreparedSweep> {
    return this.submit({ op: 'prepare', input }) as Promise<PreparedSweep>;
  }

  validate(input: string, opts: ValidateOptions): Promise<SpecValidationAnswer> {
    return this.submit({ op: 'validate', input, files: opts.files }) as Promise<SpecValidationAnswer>;
  }

  extend(job: ExtensionJob): Promise<SweepExtensionPlan> {
    return this.submit({ op: 'extend', job }) as Promise<SweepExtensionPlan>;
  }

  /** Jobs running or waiting (for tests and logs). */
  get backlog(): number {
    return this.queue.length + [...this.threads].filter((t) => t.job).length;
  }

  async close(): Promise<void> {
    this.closed = true;
    const gone = new Error('the coordinator is shutting down');
    for (const p of this.queue.splice(0)) p.reject(gone);
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

  private submit(body: JobBody): Promise<PreparedSweep | SpecValidationAnswer | SweepExtensionPlan> {
    if (this.closed) return Promise.reject(new Error('the coordinator is shutting down'));
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(new SpecChecksBusyError(`the coordinator has ${this.backlog} specs to check already; retry in a moment`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, body, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length) {
      let thread = [...this.threads].find((t) => !t.job);
      if (!thread) {
        if (this.threads.size >= this.size) return;
        thread = this.spawn();
      }
      const job = this.queue.shift()!;
      thread.job = job;
      const t = thread;
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
