import { z } from 'zod';
import { SweepSpec } from '@lmsweep/protocol';
import { baselineKey } from '@lmsweep/sweep';
import { publicProcedure, router } from '../init.ts';
import { rankConfigurations } from '../leaderboard.ts';

export const leaderboardRouter = router({
  /** Configurations ranked by perplexity per parameter count: Pareto fronts, then perplexity. */
  list: publicProcedure
    .input(
      z
        .object({
          sweepId: z.string().min(1).max(100).optional(),
          sort: z.enum(['pareto', 'validPpl', 'testPpl', 'params']).default('pareto'),
        })
        .default({ sort: 'pareto' }),
    )
    .query(async ({ ctx, input }) => {
      const groups = await ctx.store.leaderboardGroups({ sweepId: input.sweepId });
      const sweepIds = [...new Set(groups.map((g) => g.sweepId))];
      const baselines = new Map<string, string | null>();
      for (const id of sweepIds) {
        const sweep = await ctx.store.getSweep(id);
        const parsed = sweep ? SweepSpec.safeParse(sweep.spec) : null;
        baselines.set(id, parsed?.success ? baselineKey(parsed.data) : null);
      }
      return rankConfigurations(groups, baselines, input.sort);
    }),
});
