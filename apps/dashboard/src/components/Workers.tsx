'use client';
// Workers as the coordinator sees them, live: who is connected, what each one runs.
import Link from 'next/link';
import { formatAgo, formatDateTime, shortId } from '../lib/format';
import { useLive, useNow } from '../lib/live';
import { describeError, trpc, type RouterOutputs } from '../lib/trpc';
import { Empty, ErrorBanner, Loading, ProgressBar } from './bits';

type WorkerRow = RouterOutputs['workers']['list'][number];

export function Workers() {
  const live = useLive('workers', (signal) => trpc().workers.list.query(undefined, { signal }), {
    // Heartbeats (progress) arrive as running-trial changes.
    relevant: (c) => c.kind === 'worker' || c.kind === 'trial',
  });
  const now = useNow(1_000);
  const workers: WorkerRow[] = live.data ?? [];
  const connected = workers.filter((w) => w.connected).length;
  // The coordinator lists connected workers first, then the most recently heard from.
  const rows = workers;
  return (
    <section className="card">
      <div className="card-head">
        <h1>Workers</h1>
        <span className="muted">
          {connected} connected · {workers.length - connected} disconnected
        </span>
      </div>
      {live.error ? <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} /> : null}
      {live.loading && !live.data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Empty>
          No worker has connected yet. Start one with <code>lmsweep worker --coordinator URL</code>.
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="workers-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Host</th>
                <th scope="col">Backend</th>
                <th scope="col">Device</th>
                <th scope="col">Status</th>
                <th scope="col">Current trial</th>
                <th scope="col">Progress</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Connected since</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((w) => (
                <tr key={w.id} data-testid="worker-row" className={w.connected ? undefined : 'dim'}>
                  <td>
                    <strong>{w.name}</strong>
                    <div className="muted mono small">{shortId(w.id)}</div>
                  </td>
                  <td className="wrap">
                    {w.host}
                    {w.slurmJob ? (
                      // Where Slurm started it (`lmsweep slurm submit`): its array job and task.
                      <div className="muted small" title="the Slurm job array and task it runs in (lmsweep slurm status)" data-testid="worker-slurm">
                        Slurm <span className="mono">{w.slurmJob}</span>
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <code>{w.backend}</code>
                  </td>
                  <td className="wrap">{w.device}</td>
                  <td>
                    <span className={`badge ${w.connected ? 'badge-connected' : 'badge-disconnected'}`} title={w.stale ? 'not heard from for a while' : undefined}>
                      {w.connected ? 'connected' : 'disconnected'}
                    </span>
                  </td>
                  <td>
                    {w.currentTrial ? (
                      <>
                        <Link href={`/trials/${w.currentTrial.id}`} className="mono">
                          {shortId(w.currentTrial.id)}
                        </Link>{' '}
                        <span className="muted small">
                          seed {w.currentTrial.seed}
                          {w.currentTrial.attempt > 1 ? ` · attempt ${w.currentTrial.attempt}` : ''}
                        </span>
                      </>
                    ) : (
                      <span className="muted">{w.connected ? 'idle' : '—'}</span>
                    )}
                  </td>
                  <td className="cell-progress">
                    {w.currentTrial ? <ProgressBar value={w.currentTrial.progress ?? w.progress} label={`progress of ${w.name}`} /> : <span className="muted">—</span>}
                  </td>
                  <td title={formatDateTime(w.lastHeartbeat)}>{formatAgo(w.lastHeartbeat, now)}</td>
                  <td className="muted">{formatDateTime(w.connectedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
