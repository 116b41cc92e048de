import { z } from 'zod';
import { TRPCError } from '@trpc/server';
import { publicProcedure, router } from '../init.ts';
import { apiCurves } from '../curves.ts';

export const TrialStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export const TrialSort = z.enum(['ordinal', 'createdAt', 'validPpl', 'testPpl', 'params', 'finishedAt']);

export const TrialsQuery = z.object({
  sweepId: z.string().min(1).max(100).optional(),
  method: z.string().min(1).max(100).optional(),
  status: TrialStatus.optional(),
  sort: TrialSort.default('ordinal'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: z.number().int().min(1).max(10_000).default(100),
  offset: z.number().int().min(0).default(0),
});

export const trialsRouter = router({
  list: publicProcedure.input(TrialsQuery.default(TrialsQuery.parse({}))).query(({ ctx, input }) => ctx.store.listTrials(input)),
  /** One trial with its curves, metrics kept apart per attempt; a non-finite value comes as null with `nonFinite` naming it (curves.ts). */
  get: publicProcedure.input(z.object({ id: z.string().min(1).max(100) })).query(async ({ ctx, input }) => {
    const trial = await ctx.store.getTrial(input.id);
    if (!trial) throw new TRPCError({ code: 'NOT_FOUND', message: `trial ${input.id} not found` });
    return { ...trial, curves: apiCurves(trial.curves) };
  }),
});
