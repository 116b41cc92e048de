// The claim order, fair across sweeps: claims take the queued trial with the lowest queueRound,
// then the lowest queueSeq (insertion order: the older sweep's trial on a tie), through a partial
// index over the queued trials. A sweep's new trials get consecutive rounds from the queue's
// current round, so running sweeps take turns (round-robin, one trial each per round) however
// large each one is, and trials appended to a sweep that launched long ago queue beside the
// later sweeps' trials instead of behind their whole grids. Within a sweep, trials keep the order
// they were added in (appended ones after its own queued ones). A requeued trial (a retry, a
// release) keeps its round: it goes before the trials that came after it, once its backoff is over.
import { Prisma } from './generated/client.ts';

/** What the round queries need: the client or an interactive transaction. */
export type Sql = Pick<Prisma.TransactionClient, '$queryRaw'>;

/**
 * The queue's current round: the highest round among the trials being run (the claims have got
 * that far), else the lowest round still queued, else 0. Trials added now start there: they wait
 * for no trial that was queued after the running ones, and jump ahead of none queued before.
 */
export async function currentRound(sql: Sql): Promise<number> {
  const rows = await sql.$queryRaw<{ r: number }[]>`
    SELECT coalesce(
      (SELECT max("queueRound") FROM "Trial" WHERE status = 'running'),
      (SELECT "queueRound" FROM "Trial" WHERE status = 'queued' ORDER BY "queueRound", "queueSeq" LIMIT 1),
      0)::int AS r`;
  return rows[0]?.r ?? 0;
}

/**
 * The first round of trials appended to a sweep whose trials' highest round is `sweepLast`
 * (null: it has none): the current round, or after the sweep's own trials when those are not all
 * past it (a sweep's trials keep their order).
 */
export function appendRound(current: number, sweepLast: number | null): number {
  return sweepLast === null ? current : Math.max(current, sweepLast + 1);
}
