// Trials appended to a sweep while it runs, under the sweep's lock. One interactive transaction:
// the sweep's row is locked (SELECT … FOR UPDATE: PGlite and PostgreSQL alike), its trials are
// read, the caller decides what to add from that state alone (the growth decision, or an explicit
// extension re-checked against what it was planned from), and the new trials go in with the
// sweep's status, spec and record updated. Several coordinators on one PostgreSQL serialize on
// the row, so each decision sees every trial the others appended: none is planned twice, and
// none beyond what the decision allows. cancelSweep and refreshSweepStatus take the same lock
// first, so neither acts on a stale view of a sweep that is being extended.
import { MAX_TRIALS_PER_SWEEP, type TrialPlan } from '@lmsweep/protocol';
import { Prisma } from './generated/client.ts';
import { newId } from './ids.ts';
import { appendRound, currentRound } from './queue-order.ts';
import { notifySql, type StoreContext, ts } from './store-context.ts';
import { analyzeAfter, type SweepStatus, type TrialStatus } from './sweeps.ts';

/** What a growth decision needs of each stored trial. */
export interface GrowthTrial {
  ordinal: number;
  configKey: string;
  seed: number;
  status: TrialStatus;
  params: number | null;
  validPpl: number | null;
  /** Its result looks impossible next to its configuration's other seeds (Trial.flag): not counted. */
  flagged: boolean;
  finishedAt: Date | null;
}

/** A sweep as a growth decision sees it, read under its lock. */
export interface SweepGrowthState {
  sweep: { id: string; name: string; status: SweepStatus; spec: unknown; specText: string; grows: boolean; createdAt: Date; search: unknown };
  /** Every trial of the sweep, in ordinal order. */
  trials: GrowthTrial[];
  /** The ordinal the first appended trial gets: one past the highest stored. */
  nextOrdinal: number;
}

/** An extension as recorded on the sweep (Sweep.extensions). */
export interface SweepExtension {
  /** ISO time. */
  at: string;
  /** Who asked (as the caller names them). */
  by: string;
  /** What was asked for, as given. */
  request: unknown;
  /** Trials it added. */
  trials: number;
}

export interface AppendRequest {
  /** The trials to add: ordinals from state.nextOrdinal on, parents stored or among them. */
  plans: TrialPlan[];
  /** The spec as it reads with these trials (e.g. a grid with more values); absent: unchanged. */
  spec?: unknown;
  specText?: string;
  /** Record the append on the sweep (an explicit extension), with the time. With no plans, the spec change alone is recorded and the sweep runs again (e.g. a search given more configurations: its growth step samples them). */
  extension?: { by: string; request: unknown };
  /** A sampled sweep's search state after this decision (Sweep.search); written with or without plans. */
  search?: unknown;
  /**
   * The decision needs nothing more: a growing sweep with no trial queued or running ends here
   * (succeeded, or failed when none succeeded and one failed). Growing sweeps end no other way.
   */
  done?: boolean;
}

export type AppendOutcome =
  | { status: 'appended'; trials: { id: string; ordinal: number }[]; sweepStatus: 'running'; reopened: boolean }
  | { status: 'unchanged'; sweepStatus: SweepStatus }
  | { status: 'missing' };

/** Decides, from the locked state alone, what to append (null or no plans: nothing). Must not query the database itself. */
export type AppendDecision = (state: SweepGrowthState) => AppendRequest | null | Promise<AppendRequest | null>;

const slot = (configKey: string, seed: number) => `${configKey}/${seed}`;

/** Why `plans` cannot be appended to a sweep holding `state` (a bug in the caller's planning), or null. */
function planIssue(state: SweepGrowthState, plans: TrialPlan[]): string | null {
  const stored = new Set(state.trials.map((t) => t.ordinal));
  const slots = new Set(state.trials.map((t) => slot(t.configKey, t.seed)));
  const mine = new Set<number>();
  for (const [i, p] of plans.entries()) {
    if (!Number.isInteger(p.ordinal) || p.ordinal < state.nextOrdinal) return `plans[${i}].ordinal: ${p.ordinal} is not after the sweep's trials (the next ordinal is ${state.nextOrdinal})`;
    if (mine.has(p.ordinal)) return `plans[${i}].ordinal: ${p.ordinal} is given twice`;
    mine.add(p.ordinal);
    const s = slot(p.configKey, p.seed);
    if (slots.has(s)) return `plans[${i}]: configuration ${p.configKey} already has seed ${p.seed}`;
    slots.add(s);
  }
  for (const [i, p] of plans.entries()) {
    if (p.parentOrdinal === undefined) continue;
    if (p.parentOrdinal === p.ordinal || !(stored.has(p.parentOrdinal) || mine.has(p.parentOrdinal))) return `plans[${i}].parentOrdinal: no other trial of this sweep has ordinal ${p.parentOrdinal}`;
  }
  if (state.trials.length + plans.length > MAX_TRIALS_PER_SWEEP) return `the sweep would hold ${state.trials.length + plans.length} trials; at most ${MAX_TRIALS_PER_SWEEP} are allowed`;
  return null;
}

/** A sweep's growth state (with each trial's queue round), read on `sql`; locking the sweep's row with `lock`. Null: no such sweep. */
async function readState(sql: Pick<Prisma.TransactionClient, '$queryRaw'>, sweepId: string, lock: boolean): Promise<{ state: SweepGrowthState; lastRound: number | null } | null> {
  const [sweep] = await sql.$queryRaw<SweepGrowthState['sweep'][]>`
    SELECT id, name, status::text AS status, spec, "specText", grows, "createdAt", search FROM "Sweep" WHERE id = ${sweepId} ${lock ? Prisma.sql`FOR UPDATE` : Prisma.empty}`;
  if (!sweep) return null;
  const rows = await sql.$queryRaw<(GrowthTrial & { queueRound: number })[]>`
    SELECT ordinal, "configKey", seed, status::text AS status, params, "validPpl", flag IS NOT NULL AS flagged, "finishedAt", "queueRound"
    FROM "Trial" WHERE "sweepId" = ${sweepId} ORDER BY ordinal`;
  const trials = rows.map(({ queueRound: _, ...t }) => t);
  const lastRound = rows.length ? Math.max(...rows.map((r) => r.queueRound)) : null;
  return { state: { sweep, trials, nextOrdinal: trials.length ? trials[trials.length - 1]!.ordinal + 1 : 0 }, lastRound };
}

/** A sweep's growth state as it is now, without locking it (to plan from; appendPlans then checks it is unchanged). Null: no such sweep. */
export async function growthState(ctx: StoreContext, sweepId: string): Promise<SweepGrowthState | null> {
  return (await readState(ctx.prisma, sweepId, false))?.state ?? null;
}

/**
 * Locks sweep `sweepId`, reads its state, asks `decide` what to add, and adds it, in one
 * transaction. New trials are queued (in plan order, from the queue's current round: see
 * queue-order.ts); a sweep that had ended (succeeded, failed or cancelled) runs again, and its
 * `spec`/`specText` and extension record are updated as asked. Plans that break the sweep's
 * invariants (an ordinal not after the stored ones or given twice, a configuration's seed already
 * there, a parent that is no trial of the sweep, more than MAX_TRIALS_PER_SWEEP trials) are
 * refused with an error naming the plan, and nothing is written. Sends one `sweep` change.
 */
export async function appendPlans(ctx: StoreContext, sweepId: string, decide: AppendDecision): Promise<AppendOutcome> {
  const out = await appendInTransaction(ctx, sweepId, decide);
  if (out.status === 'appended') await analyzeAfter(ctx, out.trials.length);
  return out;
}

function appendInTransaction(ctx: StoreContext, sweepId: string, decide: AppendDecision): Promise<AppendOutcome> {
  return ctx.prisma.$transaction(
    async (tx) => {
      const read = await readState(tx, sweepId, true);
      if (!read) return { status: 'missing' } as const;
      const { state, lastRound } = read;
      const { sweep, trials } = state;
      const req = await decide(state);
      const now = ctx.now();
      if (!req) return { status: 'unchanged', sweepStatus: sweep.status } as const;
      const searchSql = req.search === undefined ? Prisma.sql`search` : Prisma.sql`${JSON.stringify(req.search)}::jsonb`;
      if (req.plans.length === 0 && req.extension) {
        // A spec change alone (more configurations for a search): recorded, and the sweep runs again.
        await updateSweep(tx, sweepId, req, now, searchSql);
        return { status: 'appended', trials: [], sweepStatus: 'running', reopened: sweep.status !== 'running' } as const;
      }
      if (req.plans.length === 0) {
        if (req.search !== undefined) await tx.$executeRaw`UPDATE "Sweep" SET search = ${searchSql} WHERE id = ${sweepId}`;
        if (!req.done || !sweep.grows || sweep.status !== 'running' || trials.some((t) => t.status === 'queued' || t.status === 'running' || t.status === 'paused')) return { status: 'unchanged', sweepStatus: sweep.status } as const;
        const status = !trials.some((t) => t.status === 'succeeded') && trials.some((t) => t.status === 'failed') ? 'failed' : 'succeeded';
        await tx.$executeRaw`UPDATE "Sweep" SET status = ${status}::"SweepStatus", "finishedAt" = ${ts(now)} WHERE id = ${sweepId}`;
        await tx.$queryRaw(notifySql({ kind: 'sweep', id: sweepId, status }));
        return { status: 'unchanged', sweepStatus: status } as const;
      }
      const issue = planIssue(state, req.plans);
      if (issue) throw new Error(`appendPlans(${sweepId}): ${issue}`);
      const storedParents = [...new Set(req.plans.map((p) => p.parentOrdinal).filter((o): o is number => o !== undefined && o < state.nextOrdinal))];
      const parentIds = new Map<number, string>();
      if (storedParents.length) {
        const ps = await tx.$queryRaw<{ ordinal: number; id: string }[]>`
          SELECT ordinal, id FROM "Trial" WHERE "sweepId" = ${sweepId} AND ordinal IN (SELECT jsonb_array_elements_text(${JSON.stringify(storedParents)}::jsonb)::int)`;
        for (const p of ps) parentIds.set(p.ordinal, p.id);
      }
      const ids = new Map(req.plans.map((p) => [p.ordinal, newId('t')]));
      const first = appendRound(await currentRound(tx), lastRound);
      await tx.trial.createMany({
        data: req.plans.map((p, i) => ({
          id: ids.get(p.ordinal)!,
          parentId: p.parentOrdinal === undefined ? null : (ids.get(p.parentOrdinal) ?? parentIds.get(p.parentOrdinal)!),
          sweepId,
          ordinal: p.ordinal,
          configKey: p.configKey,
          config: p.config as unknown as Prisma.InputJsonValue,
          method: p.method,
          seed: p.seed,
          maxAttempts: p.maxAttempts,
          queueRound: first + i,
          createdAt: now,
        })),
      });
      await updateSweep(tx, sweepId, req, now, searchSql);
      return { status: 'appended', trials: req.plans.map((p) => ({ id: ids.get(p.ordinal)!, ordinal: p.ordinal })), sweepStatus: 'running', reopened: sweep.status !== 'running' } as const;
    },
    { maxWait: 20_000, timeout: 60_000 },
  );
}

/** After an append: the sweep runs (again), with its spec, text, extension record and search state as asked; one `sweep` change. */
async function updateSweep(tx: Prisma.TransactionClient, sweepId: string, req: AppendRequest, now: Date, searchSql: Prisma.Sql): Promise<void> {
  const record: SweepExtension | null = req.extension ? { at: now.toISOString(), by: req.extension.by, request: req.extension.request, trials: req.plans.length } : null;
  await tx.$executeRaw`
    UPDATE "Sweep" SET status = 'running', "finishedAt" = NULL, search = ${searchSql},
      spec = ${req.spec === undefined ? Prisma.sql`spec` : Prisma.sql`${JSON.stringify(req.spec)}::jsonb`},
      "specText" = ${req.specText === undefined ? Prisma.sql`"specText"` : Prisma.sql`${req.specText}`},
      extensions = ${record ? Prisma.sql`extensions || jsonb_build_array(${JSON.stringify(record)}::jsonb)` : Prisma.sql`extensions`}
    WHERE id = ${sweepId}`;
  await tx.$queryRaw(notifySql({ kind: 'sweep', id: sweepId, status: 'running' }));
}

/** Running sweeps that grow (the coordinator's growth step looks at each when it starts). */
export async function growingSweeps(ctx: StoreContext): Promise<string[]> {
  const rows = await ctx.prisma.sweep.findMany({ where: { status: 'running', grows: true }, select: { id: true }, orderBy: { createdAt: 'asc' } });
  return rows.map((r) => r.id);
}

/** Whether sweep `sweepId` grows (null: no such sweep); it never changes after creation. */
export async function sweepGrows(ctx: StoreContext, sweepId: string): Promise<boolean | null> {
  return (await ctx.prisma.sweep.findUnique({ where: { id: sweepId }, select: { grows: true } }))?.grows ?? null;
}
