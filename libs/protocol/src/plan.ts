// A trial plan: one trial a sweep asks for, as the trial store persists it. The sweep library
// plans them (a grid's at launch; later, one sampled configuration at a time), the store queues
// them; neither needs the other to know the shape.
import type { TrialConfig } from './spec.ts';

export interface TrialPlan {
  /**
   * The trial's position in its sweep, unique there and never reused: at launch grid point-major,
   * seed-minor from 0; trials appended to a running sweep continue after its highest ordinal.
   */
  ordinal: number;
  config: TrialConfig;
  /** Hash of the config (no seed): equal for the seeds of one configuration. */
  configKey: string;
  method: string;
  seed: number;
  maxAttempts: number;
  /**
   * A compression trial (or the control) starts from the checkpoint of the trial at this ordinal
   * of the same sweep (its baseline: method dense, same seed), planned in the same batch before
   * it or already stored.
   */
  parentOrdinal?: number;
}
