// What can be added to a sweep after launch (`lmsweep extend`, sweeps.extend, the sweep page): more
// seeds, more grid values, more sampled configurations. The sweep library plans it
// (libs/sweep extend.ts); the store appends it under the sweep's lock and records it.
import { z } from 'zod';
import { GridValue } from './spec.ts';

export const ExtendRequest = z
  .object({
    /** This many more seeds for every configuration (or those in `configs`), each after its highest seed. */
    seeds: z.number().int().min(1).max(1000).optional(),
    /** Only these configurations get the seeds: their configKeys (`lmsweep leaderboard --json` shows them). */
    configs: z.array(z.string().min(1).max(64)).min(1).max(1000).optional(),
    /** More values for grid parameters (dotted path → the values to add): the new points' trials are added, the others kept. */
    grid: z.record(z.string().min(1).max(200), z.array(GridValue).min(1).max(1000)).optional(),
    /** This many more configurations for a sampled sweep. */
    trials: z.number().int().min(1).max(10_000).optional(),
  })
  .strict();
export type ExtendRequest = z.infer<typeof ExtendRequest>;
