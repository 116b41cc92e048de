// Checking and expanding specs: the CPU-heavy part of `validate`, `create` and `extend`. The host
// supplies where it runs (the coordinator: a worker-thread pool, off its event loop); the default
// runs it in place, without looking at the filesystem.
import { type ExtensionJob, extendStoredSweep, prepareSweep, validateSpec, type PreparedSweep, type SpecInput, type SpecValidation, type SweepExtensionPlan } from '@lmsweep/sweep';

export interface ValidateOptions {
  /**
   * Also check what is on the host's disk (that each dataset directory exists). Only for callers
   * allowed to launch: anyone else learns nothing about the host's filesystem.
   */
  files: boolean;
}

export interface SpecValidationAnswer extends SpecValidation {
  /** Whether the datasets were looked for on the coordinator (they are at launch in any case). */
  datasetsChecked: boolean;
}

export interface SpecChecks {
  /** Parses, checks (datasets included) and expands a spec for launch; rejects with SpecError naming each bad field. */
  prepare(input: SpecInput): Promise<PreparedSweep>;
  /** Checks a spec without launching it. */
  validate(input: string, opts: ValidateOptions): Promise<SpecValidationAnswer>;
  /** Plans an extension of a stored sweep (libs/sweep extendStoredSweep); rejects with SpecError naming each bad field. */
  extend(job: ExtensionJob): Promise<SweepExtensionPlan>;
}

/** The host has as much spec checking queued as it takes: the caller may retry shortly. */
export class SpecChecksBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecChecksBusyError';
  }
}

/** Runs on the calling thread and checks no files: for tests and embedders. */
export const inlineSpecChecks: SpecChecks = {
  prepare: async (input) => prepareSweep(input),
  validate: async (input) => ({ ...validateSpec(input), datasetsChecked: false }),
  extend: async (job) => extendStoredSweep(job),
};
