// What a sampled sweep remembers of its search, stored on the sweep (Sweep.search) and written
// under its lock with the trials each growth step appends: the configurations the sampler chose,
// in the order it chose them (their points, which a trial's config does not say apart from the
// base config's values), and the points it drew and could not queue, counted by reason.
import { z } from 'zod';

const Value = z.union([z.number(), z.string(), z.boolean()]);

export const SearchPoint = z.object({
  /** The configuration's configKey (its trials carry it). */
  key: z.string().min(1).max(64),
  /** The sampled value of each active parameter, by path. */
  point: z.record(z.string(), Value),
});
export type SearchPoint = z.infer<typeof SearchPoint>;

export const SearchState = z.object({
  /** The configurations chosen so far, oldest first (the budget is search.trials of them). */
  points: z.array(SearchPoint).max(10_000),
  /** Their keys in the order they finished for the sampler (as many of their trials ended as the spec's first seeds); never shrinks. */
  finished: z.array(z.string().min(1).max(64)).max(10_000).default([]),
  /** How many of `finished` the last choice was told: each choice is told one more finished configuration than the one before, at most all. */
  seen: z.number().int().min(0).default(0),
  /** Points drawn so far, chosen or not: the next draw's generator stream (and Sobol's index). */
  draws: z.number().int().min(0).default(0),
  /** Points drawn and not queued: infeasible at that point (PHM's n, a rate), or a configuration already chosen. */
  rejected: z.number().int().min(0),
  /** Why, by the field at fault ("configKey": chosen before), with how often and the latest message: at most MAX_REASONS fields. */
  reasons: z.array(z.object({ path: z.string().max(200), count: z.number().int().min(1), example: z.string().max(500) })).max(64),
  /**
   * Set when the sampler found no new feasible point in its draws (or the sweep holds the most
   * trials it may): the search stops there, with fewer configurations than its budget, and draws
   * again only once more configurations have finished or the budget grew.
   */
  exhausted: z.object({ message: z.string().max(500), finished: z.number().int().min(0), budget: z.number().int().min(0) }).optional(),
});
export type SearchState = z.infer<typeof SearchState>;

/** Distinct fields kept among the rejection reasons (the rest are counted under "other"). */
export const MAX_REASONS = 16;

/** A stored search state read back (a sweep without one, or one that no longer reads, starts empty). */
export function readSearchState(stored: unknown): SearchState {
  const r = SearchState.safeParse(stored);
  return r.success ? r.data : SearchState.parse({ points: [], rejected: 0, reasons: [] });
}
