import { z } from 'zod';
import { SweepSpec } from '@lmsweep/protocol';
import { variedKeys } from '@lmsweep/protocol/labels';
import { adaptiveSeeds, baselineKey } from '@lmsweep/sweep';
import { type ApiContext, publicProcedure, router } from '../init.ts';
import { leaderboardPage, type LeaderboardSort, rankConfigurations, stoppedConfigurations, type StoppedPage } from '../leaderboard.ts';

const SORT = z.enum(['pareto', 'validPpl', 'testPpl', 'params']).default('pareto');
const SWEEP_ID = z.string().min(1).max(100).optional();

/** Every configuration with finished trials (of one sweep, or all), ranked; with one sweep's varied keys, which its labels name. */
async function rankedWithKeys(ctx: ApiContext, sweepId: string | undefined, sort: LeaderboardSort) {
  const groups = await ctx.store.leaderboardGroups({ sweepId });
  const sweepIds = [...new Set(groups.map((g) => g.sweepId))];
  const baselines = new Map<string, string | null>();
  const targets = new Map<string, number | null>();
  let keys: string[] = [];
  for (const id of sweepIds) {
    const sweep = await ctx.store.getSweep(id);
    const parsed = sweep ? SweepSpec.safeParse(sweep.spec) : null;
    baselines.set(id, parsed?.success ? baselineKey(parsed.data) : null);
    targets.set(id, parsed?.success ? (adaptiveSeeds(parsed.data)?.ciHalfWidth ?? null) : null);
    if (sweepId) keys = variedKeys(sweep?.spec);
  }
  return { entries: rankConfigurations(groups, baselines, sort, targets), keys };
}

export const leaderboardRouter = router({
  /** Configurations ranked by perplexity per parameter count: Pareto fronts, then perplexity (all of them). */
  list: publicProcedure
    .input(z.object({ sweepId: SWEEP_ID, sort: SORT }).default({ sort: 'pareto' }))
    .query(async ({ ctx, input }) => (await rankedWithKeys(ctx, input.sweepId, input.sort)).entries),

  /**
   * One page of that ranking (`limit` configurations from `offset`), its total, and every
   * configuration in compact columns for the Pareto plot: what the dashboard shows at thousands
   * of configurations without sending them all in full.
   */
  page: publicProcedure
    .input(
      z
        .object({ sweepId: SWEEP_ID, sort: SORT, offset: z.number().int().min(0).max(10_000_000).default(0), limit: z.number().int().min(1).max(1000).default(100) })
        .default({ sort: 'pareto', offset: 0, limit: 100 }),
    )
    .query(async ({ ctx, input }) => {
      const { entries, keys } = await rankedWithKeys(ctx, input.sweepId, input.sort);
      return leaderboardPage(entries, input.offset, input.limit, keys);
    }),

  /**
   * The ranking's companion: configurations whose seeds were all stopped early (pruned, or paused
   * at a rung), none finished, so not ranked; each with where it stopped ("stopped at step s"),
   * its rung and its last value, furthest first. `limit` of them from `offset`, and their total.
   */
  stopped: publicProcedure
    .input(
      z
        .object({ sweepId: SWEEP_ID, offset: z.number().int().min(0).max(10_000_000).default(0), limit: z.number().int().min(1).max(10_000).default(100) })
        .default({ offset: 0, limit: 100 }),
    )
    .query(async ({ ctx, input }): Promise<StoppedPage> => {
      const all = stoppedConfigurations(await ctx.store.stoppedRows({ sweepId: input.sweepId }));
      return { total: all.length, offset: input.offset, entries: all.slice(input.offset, input.offset + input.limit) };
    }),
});
