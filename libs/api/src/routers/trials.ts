import { z } from 'zod';
import { TRPCError } from '@trpc/server';
import { MAX_NOTE_CHARS } from '@lmsweep/db';
import { publicProcedure, router, writeProcedure } from '../init.ts';
import { apiCurves, MIN_CURVE_POINTS } from '../curves.ts';

/** paused: waiting at a rung to be promoted; pruned: stopped early by its sweep's pruner (a result, not a failure). */
export const TrialStatus = z.enum(['queued', 'running', 'paused', 'succeeded', 'pruned', 'failed', 'cancelled']);
export const TrialSort = z.enum(['ordinal', 'createdAt', 'validPpl', 'testPpl', 'params', 'finishedAt']);

export const TrialsQuery = z.object({
  sweepId: z.string().min(1).max(100).optional(),
  method: z.string().min(1).max(100).optional(),
  /** One status, or any of several (`['paused', 'pruned']`: the trials stopped early). */
  status: z.union([TrialStatus, z.array(TrialStatus).min(1).max(7)]).optional(),
  sort: TrialSort.default('ordinal'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: z.number().int().min(1).max(10_000).default(100),
  offset: z.number().int().min(0).default(0),
});

export const trialsRouter = router({
  /** Trials filtered, sorted and paged; every row carries steps (trained so far), rung, promotions (times resumed) and verdict (why it paused or was pruned). */
  list: publicProcedure.input(TrialsQuery.default(TrialsQuery.parse({}))).query(({ ctx, input }) => ctx.store.listTrials(input)),
  /**
   * One trial with its curves, metrics kept apart per attempt; a non-finite value comes as null
   * with `nonFinite` naming it (curves.ts). `segments` ([{ attempt, through }]) says which
   * attempts its curve is made of: each paused at `through`, and the next resumed from there.
   * `points` thins long curves for drawing (curves.ts thin).
   */
  get: publicProcedure
    .input(
      z.object({
        id: z.string().min(1).max(100),
        /** At most this many points per curve (each stretch's lowest and highest, the first and last kept; `stored` then says how many there are); absent: all. */
        points: z.number().int().min(MIN_CURVE_POINTS).max(100_000).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const trial = await ctx.store.getTrial(input.id);
      if (!trial) throw new TRPCError({ code: 'NOT_FOUND', message: `trial ${input.id} not found` });
      return { ...trial, curves: apiCurves(trial.curves, input.points) };
    }),
  /** Replaces the trial's Markdown note (shown on its page and by `lmsweep note`). */
  setNote: writeProcedure.input(z.object({ id: z.string().min(1).max(100), note: z.string().max(MAX_NOTE_CHARS) })).mutation(async ({ ctx, input }) => {
    const r = await ctx.store.setNote('trial', input.id, input.note);
    if (!r) throw new TRPCError({ code: 'NOT_FOUND', message: `trial ${input.id} not found` });
    return r;
  }),
});
