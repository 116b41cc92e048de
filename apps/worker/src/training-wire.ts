// The messages between a worker agent and its training process (training-process.ts, training-child.ts),
// over Node's IPC channel with the 'advanced' (structured clone) serialization: byte arrays travel
// as bytes, and a diverged NaN or Infinity stays one. Errors cross as data and are rebuilt as the
// classes agent.ts tells apart (aborted, diverged, a config that cannot run, anything else).
import type { MetricPoint, PruneVerdict, TrialConfig, TrialResult } from '@lmsweep/protocol';
import { AbortedError, DivergedError, type TrialPaused, type TrialProgress, TrialConfigError } from '@lmsweep/nn';
import type { BackendChoice } from './agent.ts';

/** The agent's side: what to train and the answers to the child's questions. */
export type ToTraining =
  | { type: 'init'; backend: BackendChoice; wasmThreads?: number; native?: boolean }
  | {
      type: 'run';
      /** This run's number: every answer carries it, and the agent ignores those of runs it gave up. */
      run: number;
      config: TrialConfig;
      seed: number;
      /** The baseline's checkpoint; without `checkpoint`, the one the previous run here was given (same trial and digest). */
      baseline?: { trialId: string; sha256: string; checkpoint?: Uint8Array };
      /** Send the trained model's checkpoint (and wait for `stored`) before the result. */
      saveCheckpoint: boolean;
      /** After each step that measured valid_ppl (its points sent first), ask `judge` and wait for the `verdict`. */
      judged?: boolean;
      /** Continue a paused trial from its resume checkpoint. */
      resume?: { checkpoint: Uint8Array };
    }
  | { type: 'abort'; run: number; reason: string }
  /** Answers `checkpoint` and `resume-checkpoint`. */
  | { type: 'stored'; run: number; ok: boolean }
  /** Answers `judge`: continue trains on; pause sends the resume checkpoint, then `paused`; stop ends the run with `stopped`. */
  | { type: 'verdict'; run: number; step: number; action: PruneVerdict['action'] };

export type FromTraining =
  | { type: 'ready'; backend: string; device: string }
  | { type: 'init-failed'; error: string }
  | { type: 'started'; run: number; dataset: string; vocab: number }
  | { type: 'progress'; run: number; progress: TrialProgress }
  | { type: 'metrics'; run: number; points: MetricPoint[] }
  | { type: 'checkpoint'; run: number; data: Uint8Array }
  | { type: 'judge'; run: number; step: number }
  /** The paused run's resume checkpoint: wait for `stored` before `paused`. */
  | { type: 'resume-checkpoint'; run: number; data: Uint8Array; paused: TrialPaused }
  | { type: 'result'; run: number; result: TrialResult }
  | { type: 'paused'; run: number; paused: TrialPaused }
  /** A stop verdict ended the run right after `step`. */
  | { type: 'stopped'; run: number; step: number }
  | { type: 'failed'; run: number; error: WireError }
  | { type: 'log'; level: 'info' | 'warn'; msg: string; fields?: Record<string, unknown> };

export type WireError =
  | { kind: 'aborted'; step: number; message: string }
  | { kind: 'diverged'; step: number; loss: number; message: string }
  | { kind: 'config'; message: string }
  | { kind: 'error'; name: string; message: string; stack?: string };

export function encodeError(e: unknown): WireError {
  if (e instanceof AbortedError) return { kind: 'aborted', step: e.step, message: e.message };
  if (e instanceof DivergedError) return { kind: 'diverged', step: e.step, loss: e.loss, message: e.message };
  if (e instanceof TrialConfigError) return { kind: 'config', message: e.message };
  if (e instanceof Error) return { kind: 'error', name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  return { kind: 'error', name: 'Error', message: String(e) };
}

/** The error the training process reported, as the class it was thrown as there. */
export function decodeError(w: WireError): Error {
  switch (w.kind) {
    case 'aborted':
      return Object.assign(new AbortedError(w.step), { message: w.message });
    case 'diverged':
      return Object.assign(new DivergedError(w.step, w.loss), { message: w.message });
    case 'config':
      return new TrialConfigError(w.message);
    case 'error': {
      const e = new Error(w.message);
      e.name = w.name;
      if (w.stack) e.stack = w.stack;
      return e;
    }
  }
}
