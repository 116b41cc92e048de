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
  /** Points drawn and not queued: infeasible at that point (PHM's n, a rate), or a configuration already chosen. */
  rejected: z.number().int().min(0),
  /** Why, by the field at fault ("configKey": chosen before), with how often and the latest message: at most MAX_REASONS fields. */
  reasons: z.array(z.object({ path: z.string().max(200), count: z.number().int().min(1), example: z.string().max(500) })).max(64),
  /** Set when the sampler found no new feasible point in its attempts: the search stops there, with fewer configurations than its budget. */
  exhausted: z.string().max(500).optional(),
});
export type SearchState = z.infer<typeof SearchState>;

/** Distinct fields kept among the rejection reasons (the rest are counted under "other"). */
export const MAX_REASONS = 16;

/** A stored search state read back (a sweep without one, or one that no longer reads, starts empty). */
export function readSearchState(stored: unknown): SearchState {
  const r = SearchState.safeParse(stored);
  return r.success ? r.data : { points: [], rejected: 0, reasons: [] };
}
