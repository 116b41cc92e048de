// sweeps.extend: more seeds, grid values or sampled configurations for a sweep that exists. Planned from the sweep as it is
// (on the host's spec threads: the plan can be thousands of trials), then appended under the
// sweep's lock only if the sweep has not changed since (another extension, or the coordinator's
// growth step, appended first): else planned again from what it holds now.
import { z } from 'zod';
import { TRPCError } from '@trpc/server';
import { ExtendRequest } from '@lmsweep/protocol';
import { type ApiContext, NotFoundError } from './init.ts';
import { inlineSpecChecks } from './spec-checks.ts';

export const ExtendInput = ExtendRequest.extend({
  id: z.string().min(1).max(100),
  /** Who asks (recorded with the extension): e.g. user@host, or "dashboard". */
  by: z.string().min(1).max(200).optional(),
});
export type ExtendInput = z.infer<typeof ExtendInput>;

/** Plans tried before giving up on a sweep that keeps changing under them. */
const ATTEMPTS = 5;

export interface ExtendAnswer {
  id: string;
  /** Trials added. */
  trials: number;
  /** What was added, in one line. */
  summary: string;
  /** Whether the sweep had ended (it runs again). */
  reopened: boolean;
}

export async function extendSweep(ctx: ApiContext, input: ExtendInput): Promise<ExtendAnswer> {
  const { id, by, ...request } = input;
  const specs = ctx.specs ?? inlineSpecChecks;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const before = await ctx.store.growthState(id);
    if (!before) throw new NotFoundError('sweep', id);
    const plan = await specs.extend({ spec: before.sweep.spec, specText: before.sweep.specText, trials: before.trials.map(({ ordinal, configKey, seed }) => ({ ordinal, configKey, seed })), request, search: before.sweep.search });
    let stale = false;
    const out = await ctx.store.appendPlans(id, (now) => {
      stale = now.nextOrdinal !== before.nextOrdinal || now.trials.length !== before.trials.length || now.sweep.specText !== before.sweep.specText || JSON.stringify(now.sweep.spec) !== JSON.stringify(before.sweep.spec) || JSON.stringify(now.sweep.search) !== JSON.stringify(before.sweep.search);
      if (stale) return null;
      return { plans: plan.plans, spec: plan.spec, specText: plan.specText, extension: { by: by ?? 'api', request } };
    });
    if (out.status === 'missing') throw new NotFoundError('sweep', id);
    if (out.status === 'appended') return { id, trials: out.trials.length, summary: plan.summary, reopened: out.reopened };
  }
  throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `sweep ${id} kept changing while the extension was planned (${ATTEMPTS} times); retry` });
}
