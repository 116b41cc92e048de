// Reads of trials: lists filtered, sorted and paged, and one trial with its metric curves.
import { Prisma, type Trial } from './generated/client.ts';
import { MAX_PAGE, type StoreContext } from './store-context.ts';
import type { TrialStatus } from './sweeps.ts';

export type TrialSort = 'ordinal' | 'createdAt' | 'validPpl' | 'testPpl' | 'params' | 'finishedAt';

export interface ListTrialsQuery {
  sweepId?: string;
  method?: string;
  /** One status, or any of several (e.g. the stopped early: paused and pruned). */
  status?: TrialStatus | readonly TrialStatus[];
  sort?: TrialSort;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export interface CurvePoint {
  step: number;
  epoch: number;
  value: number;
  time: Date;
}
export interface Curve {
  attempt: number;
  name: string;
  points: CurvePoint[];
}
export type TrialWithCurves = Trial & { curves: Curve[] };

export async function listTrials(ctx: StoreContext, q: ListTrialsQuery = {}): Promise<{ items: Trial[]; total: number }> {
  const where: Prisma.TrialWhereInput = {};
  if (q.sweepId) where.sweepId = q.sweepId;
  if (q.method) where.method = q.method;
  if (typeof q.status === 'string') where.status = q.status;
  else if (q.status?.length) where.status = { in: [...q.status] };
  const order = q.order ?? 'asc';
  const sort = q.sort ?? 'ordinal';
  let orderBy: Prisma.TrialOrderByWithRelationInput[];
  switch (sort) {
    case 'ordinal':
      orderBy = [{ sweep: { createdAt: order } }, { sweepId: order }, { ordinal: order }];
      break;
    case 'createdAt':
      orderBy = [{ createdAt: order }, { sweepId: order }, { ordinal: order }];
      break;
    default:
      // Trials without the value (not finished yet) go last either way.
      orderBy = [{ [sort]: { sort: order, nulls: 'last' } }, { sweepId: 'asc' }, { ordinal: 'asc' }];
  }
  const [items, total] = await Promise.all([
    ctx.prisma.trial.findMany({ where, orderBy, take: Math.min(q.limit ?? 100, MAX_PAGE), skip: q.offset ?? 0 }),
    ctx.prisma.trial.count({ where }),
  ]);
  return { items, total };
}

/** One trial with its metric curves, one per (attempt, name): a dead attempt's curve never mixes with the next. */
export async function getTrial(ctx: StoreContext, id: string): Promise<TrialWithCurves | null> {
  const trial = await ctx.prisma.trial.findUnique({ where: { id } });
  if (!trial) return null;
  const metrics = await ctx.prisma.trialMetric.findMany({
    where: { trialId: id },
    orderBy: [{ attempt: 'asc' }, { name: 'asc' }, { step: 'asc' }],
    select: { attempt: true, name: true, step: true, epoch: true, value: true, time: true },
  });
  const curves: Curve[] = [];
  let cur: Curve | undefined;
  for (const m of metrics) {
    if (!cur || cur.attempt !== m.attempt || cur.name !== m.name) {
      cur = { attempt: m.attempt, name: m.name, points: [] };
      curves.push(cur);
    }
    cur.points.push({ step: m.step, epoch: m.epoch, value: m.value, time: m.time });
  }
  return { ...trial, curves };
}
