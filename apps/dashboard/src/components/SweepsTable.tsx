'use client';
// Every sweep, newest first, with its trials by status.
import Link from 'next/link';
import { useState } from 'react';
import { formatDateTime, shortId } from '../lib/format';
import { useLive } from '../lib/live';
import { describeError, trpc, type RouterOutputs } from '../lib/trpc';
import { Empty, ErrorBanner, Loading, Pager, StackedBar, StatusBadge } from './bits';

type SweepRow = RouterOutputs['sweeps']['list']['items'][number];
const PAGE = 50;

export function SweepsTable() {
  const [offset, setOffset] = useState(0);
  const live = useLive(`sweeps:${offset}`, (signal) => trpc().sweeps.list.query({ limit: PAGE, offset }, { signal }), {
    // Trial heartbeats do not change the counts; status changes do.
    relevant: (c) => c.kind === 'sweep' || (c.kind === 'trial' && c.status !== 'running'),
  });
  const items: SweepRow[] = live.data?.items ?? [];
  const total = live.data?.total ?? 0;
  return (
    <section className="card" aria-labelledby="sweeps-title">
      <div className="card-head">
        <h1 id="sweeps-title">Sweeps</h1>
        <span className="muted">{live.data ? `${total} sweep${total === 1 ? '' : 's'}` : ''}</span>
      </div>
      {live.error ? <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} /> : null}
      {live.loading && !live.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <Empty>No sweeps yet: launch one with the form.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="sweeps-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Trials</th>
                <th scope="col" className="num">Done</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => {
                // Pruned trials are results (stopped early); paused ones may still resume.
                const done = s.counts.succeeded + s.counts.pruned + s.counts.failed + s.counts.cancelled;
                return (
                  <tr key={s.id} data-testid="sweep-row">
                    <td>
                      <Link href={`/sweeps/${s.id}`}>
                        <strong>{s.name}</strong>
                      </Link>
                      <div className="muted mono small">{shortId(s.id)}</div>
                    </td>
                    <td>
                      <StatusBadge status={s.status} />
                    </td>
                    <td>
                      <StackedBar counts={s.counts} total={s.counts.total} />
                      <div className="muted small">
                        {s.counts.running ? `${s.counts.running} running · ` : ''}
                        {s.counts.paused ? `${s.counts.paused} paused · ` : ''}
                        {s.counts.queued ? `${s.counts.queued} queued · ` : ''}
                        {s.counts.failed ? `${s.counts.failed} failed · ` : ''}
                        {s.counts.pruned ? `${s.counts.pruned} pruned · ` : ''}
                        {s.counts.succeeded} ok
                      </div>
                    </td>
                    <td className="num">
                      {done}/{s.counts.total}
                    </td>
                    <td className="muted">{formatDateTime(s.createdAt)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Pager offset={offset} pageSize={PAGE} total={total} onOffset={setOffset} labels={['← Newer', 'Older →']} />
    </section>
  );
}
