import { z } from 'zod';
import { TRPCError } from '@trpc/server';
import { analyzeSweep, COMPARE_MAX, COMPARE_MIN, compareConfigs, searchProgress, sweepGrows } from '@lmsweep/sweep';
import { SweepSpec } from '@lmsweep/protocol';
import { MAX_NOTE_CHARS } from '@lmsweep/db';
import { publicProcedure, router, toTrpcError, writeProcedure } from '../init.ts';
import { inlineSpecChecks } from '../spec-checks.ts';
import { ExtendInput, extendSweep } from '../extend.ts';

const Id = z.object({ id: z.string().min(1).max(100) });

export const sweepsRouter = router({
  /** Validates a spec (YAML/JSON text or an object), expands it into trials (a search: samples its first configurations) and queues them. */
  create: writeProcedure
    .input(z.object({ spec: z.union([z.string().min(1).max(200_000), z.record(z.string(), z.unknown())]) }))
    .mutation(async ({ ctx, input }) => {
      try {
        const { spec, plans, search } = await (ctx.specs ?? inlineSpecChecks).prepare(input.spec);
        const specText = typeof input.spec === 'string' ? input.spec : JSON.stringify(input.spec, null, 2);
        const sweep = await ctx.store.createSweep({ name: spec.name, spec, specText, plans, grows: sweepGrows(spec), search });
        return { id: sweep.id, name: sweep.name, trials: plans.length };
      } catch (e) {
        return toTrpcError(e);
      }
    }),
  /**
   * Checks a spec without launching it: the dashboard's editor shows these issues as you type.
   * Open to all, so it looks at the coordinator's disk (datasets) only for callers who may launch.
   */
  validate: publicProcedure
    .input(z.object({ spec: z.string().max(200_000) }))
    .query(async ({ ctx, input }) => {
      try {
        return await (ctx.specs ?? inlineSpecChecks).validate(input.spec, { files: ctx.canWrite });
      } catch (e) {
        return toTrpcError(e);
      }
    }),
  list: publicProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(50), offset: z.number().int().min(0).default(0) }).default({ limit: 50, offset: 0 }))
    .query(({ ctx, input }) => ctx.store.listSweeps(input)),
  get: publicProcedure.input(Id).query(async ({ ctx, input }) => {
    const sweep = await ctx.store.getSweep(input.id);
    if (!sweep) throw new TRPCError({ code: 'NOT_FOUND', message: `sweep ${input.id} not found` });
    return sweep;
  }),
  /**
   * A sampled sweep's search: sampler, budget, configurations in flight, points rejected (by
   * field), the best so far, and after each finished configuration the best perplexity and the
   * front's hypervolume. Null for a grid sweep.
   */
  search: publicProcedure.input(Id).query(async ({ ctx, input }) => {
    const state = await ctx.store.growthState(input.id);
    if (!state) throw new TRPCError({ code: 'NOT_FOUND', message: `sweep ${input.id} not found` });
    const spec = SweepSpec.safeParse(state.sweep.spec);
    return spec.success ? searchProgress(spec.data, state.trials, state.sweep.search) : null;
  }),
  /**
   * A sweep's analysis views (libs/sweep analysis): the fields it varies, every trial's values
   * and objectives, the optimization history, parameter importance, and the validation curves of
   * the best `curves` trials, each thinned to `points`.
   */
  analysis: publicProcedure
    .input(Id.extend({ curves: z.number().int().min(0).max(2_000).default(200), points: z.number().int().min(4).max(2_000).default(200) }))
    .query(async ({ ctx, input }) => {
      const sweep = await ctx.store.getSweep(input.id);
      if (!sweep) throw new TRPCError({ code: 'NOT_FOUND', message: `sweep ${input.id} not found` });
      const trials = (await ctx.store.analysisTrials(input.id, { curves: input.curves > 0 })) ?? [];
      return analyzeSweep(sweep.spec, trials, { maxCurves: input.curves, curvePoints: input.points });
    }),
  /**
   * 2–8 configurations of a sweep side by side (libs/sweep compare): the fields that differ, each
   * one's seeds, interval and validation curves, and each against the first paired by seed.
   */
  compare: publicProcedure
    .input(Id.extend({ configKeys: z.array(z.string().min(1).max(200)).min(COMPARE_MIN).max(COMPARE_MAX), points: z.number().int().min(4).max(2_000).default(300) }))
    .query(async ({ ctx, input }) => {
      const sweep = await ctx.store.getSweep(input.id);
      if (!sweep) throw new TRPCError({ code: 'NOT_FOUND', message: `sweep ${input.id} not found` });
      const trials = (await ctx.store.analysisTrials(input.id, { curves: true })) ?? [];
      try {
        return compareConfigs(sweep.spec, trials, input.configKeys, { curvePoints: input.points });
      } catch (e) {
        if (e instanceof RangeError) throw new TRPCError({ code: 'BAD_REQUEST', message: e.message });
        throw e;
      }
    }),
  /**
   * Adds to a sweep after launch: more seeds (for every configuration, or those named by
   * configKey), more values for grid parameters, more configurations for a search; planned off the event loop, appended under the
   * sweep's lock, recorded on the sweep. A sweep that had ended runs again.
   */
  extend: writeProcedure.input(ExtendInput).mutation(async ({ ctx, input }) => {
    try {
      return await extendSweep(ctx, input);
    } catch (e) {
      return toTrpcError(e);
    }
  }),
  /** Replaces the sweep's Markdown note (shown on its page and by `lmsweep note`). */
  setNote: writeProcedure.input(Id.extend({ note: z.string().max(MAX_NOTE_CHARS) })).mutation(async ({ ctx, input }) => {
    const r = await ctx.store.setNote('sweep', input.id, input.note);
    if (!r) throw new TRPCError({ code: 'NOT_FOUND', message: `sweep ${input.id} not found` });
    return r;
  }),
  cancel: writeProcedure.input(Id).mutation(async ({ ctx, input }) => {
    const sweep = await ctx.store.getSweep(input.id);
    if (!sweep) throw new TRPCError({ code: 'NOT_FOUND', message: `sweep ${input.id} not found` });
    const r = await ctx.store.cancelSweep(input.id);
    return { cancelled: r.cancelled, running: r.running.length };
  }),
});
