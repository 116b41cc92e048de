// A sweep's trials as its analysis views read them (libs/api analysis): every trial with its
// configuration, objectives and where it stopped, and with `curves`, its validation curve
// (valid_ppl along its segments and current attempt, as pruning reads it) — one statement
// returning one JSON text, which parses far faster than thousands of rows through the driver.
import { Prisma } from './generated/client.ts';
import { curveJson } from './prune-store.ts';
import type { StoreContext } from './store-context.ts';
import type { TrialStatus } from './sweeps.ts';

export interface AnalysisTrial {
  id: string;
  ordinal: number;
  status: TrialStatus;
  method: string;
  configKey: string;
  seed: number;
  config: unknown;
  params: number | null;
  validPpl: number | null;
  testPpl: number | null;
  finishedAt: Date | null;
  steps: number | null;
  rung: number | null;
  promotions: number;
  /** The attempts its curve was made of before the current one: each paused at `through` and the next resumed there. */
  segments: { attempt: number; through: number }[];
  /** Its valid_ppl points in step order (NaN where a run diverged); empty unless curves were asked for. */
  curve: { step: number; value: number }[];
}

type Row = [string, number, TrialStatus, string, string, number, unknown, number | null, number | null, number | null, string | null, number | null, number | null, number, { attempt: number; through: number }[], [number, number | string | null][] | null];

/** Every trial of the sweep in ordinal order (null: no such sweep). */
export async function analysisTrials(ctx: StoreContext, sweepId: string, opts: { curves: boolean }): Promise<AnalysisTrial[] | null> {
  const [sweep] = await ctx.prisma.$queryRaw<{ id: string }[]>`SELECT id FROM "Sweep" WHERE id = ${sweepId}`;
  if (!sweep) return null;
  const curve = opts.curves ? curveJson() : Prisma.sql`NULL::json`;
  const [{ v }] = (await ctx.prisma.$queryRaw<{ v: string | null }[]>`
    SELECT json_agg(json_build_array(t.id, t.ordinal, t.status, t.method, t."configKey", t.seed, t.config, t.params,
      t."validPpl", t."testPpl", t."finishedAt", t.steps, t.rung, t.promotions, t.segments, ${curve}) ORDER BY t.ordinal)::text AS v
    FROM "Trial" t WHERE t."sweepId" = ${sweepId}`) as [{ v: string | null }];
  const rows = (v ? JSON.parse(v) : []) as Row[];
  const num = (x: number | string | null) => (typeof x === 'number' ? x : Number.NaN);
  return rows.map(([id, ordinal, status, method, configKey, seed, config, params, validPpl, testPpl, finishedAt, steps, rung, promotions, segments, points]) => ({
    id,
    ordinal,
    status,
    method,
    configKey,
    seed,
    config,
    params,
    validPpl: validPpl === null ? null : num(validPpl),
    testPpl: testPpl === null ? null : num(testPpl),
    // timestamp(3) without a zone, stored in UTC
    finishedAt: finishedAt ? new Date(`${finishedAt}Z`) : null,
    steps,
    rung,
    promotions,
    segments,
    curve: (points ?? []).map(([step, value]) => ({ step, value: num(value) })),
  }));
}
