'use client';
// /leaderboard?sweep=ID: one sweep's ranking (or every sweep's), with a sweep picker; for one sweep, its analysis views.
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { shortId } from '../lib/format';
import { useLive } from '../lib/live';
import { trpc } from '../lib/trpc';
import { Analysis } from './Analysis';
import { Leaderboard } from './Leaderboard';

export function LeaderboardPage({ sweepId }: { sweepId?: string }) {
  const router = useRouter();
  const sweeps = useLive('leaderboard-sweeps', (signal) => trpc().sweeps.list.query({ limit: 200, offset: 0 }, { signal }), {
    relevant: (c) => c.kind === 'sweep',
    pollMs: 15_000,
  });
  const items = sweeps.data?.items ?? [];
  const current = items.find((s) => s.id === sweepId);
  return (
    <>
      <section className="card">
        <div className="card-head">
          <h1>
            Leaderboard
            {sweepId && (
              <span className="muted" style={{ fontWeight: 400, fontSize: 16 }}>
                · {current ? <Link href={`/sweeps/${sweepId}`}>{current.name}</Link> : shortId(sweepId)}
              </span>
            )}
          </h1>
          <label className="field-inline">
            Sweep
            <select
              value={sweepId ?? ''}
              data-testid="leaderboard-sweep"
              onChange={(e) => router.push(e.target.value ? `/leaderboard?sweep=${encodeURIComponent(e.target.value)}` : '/leaderboard')}
            >
              <option value="">all sweeps</option>
              {sweepId && !current && <option value={sweepId}>{shortId(sweepId)}</option>}
              {items.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({shortId(s.id)})
                </option>
              ))}
            </select>
          </label>
        </div>
        <p className="muted" style={{ marginTop: 0 }}>
          Configurations ranked by perplexity per parameter count. Each configuration aggregates its seeds: mean ± half-width of the 95% Student-t
          confidence interval. Compression is the baseline&apos;s parameter count over this one&apos;s.
        </p>
        <Leaderboard key={sweepId ?? '*'} sweepId={sweepId} spec={current?.spec} />
      </section>
      {sweepId && <Analysis key={sweepId} sweepId={sweepId} />}
    </>
  );
}
