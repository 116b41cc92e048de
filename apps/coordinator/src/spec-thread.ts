// The body of a spec-checking thread (spec-pool.ts): parses, checks and expands specs posted to
// it, one at a time, away from the coordinator's event loop.
import { parentPort } from 'node:worker_threads';
import { type FieldIssue, SpecError } from '@lmsweep/protocol';
import { type ExtensionJob, extendStoredSweep, prepareSweep, validateSpec, type PreparedSweep, type SpecInput, type SweepExtensionPlan } from '@lmsweep/sweep';
import type { SpecValidationAnswer } from '@lmsweep/api';
import { checkDatasets } from './datasets.ts';

export type SpecJob =
  | { id: number; op: 'prepare'; input: SpecInput; cwd: string }
  | { id: number; op: 'validate'; input: string; files: boolean; cwd: string }
  | { id: number; op: 'extend'; job: ExtensionJob; cwd: string };

export type SpecJobResult =
  | { id: number; ok: true; value: PreparedSweep | SpecValidationAnswer | SweepExtensionPlan }
  | { id: number; ok: false; issues: FieldIssue[] }
  | { id: number; ok: false; error: string };

function run(job: SpecJob): SpecJobResult {
  try {
    if (job.op === 'prepare') return { id: job.id, ok: true, value: prepareSweep(job.input, (spec) => checkDatasets(spec, job.cwd)) };
    if (job.op === 'extend') return { id: job.id, ok: true, value: extendStoredSweep(job.job) };
    const extra = job.files ? (spec: Parameters<typeof checkDatasets>[0]) => checkDatasets(spec, job.cwd) : undefined;
    return { id: job.id, ok: true, value: { ...validateSpec(job.input, extra), datasetsChecked: job.files } };
  } catch (e) {
    if (e instanceof SpecError) return { id: job.id, ok: false, issues: e.issues };
    return { id: job.id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

parentPort?.on('message', (job: SpecJob) => parentPort!.postMessage(run(job)));
