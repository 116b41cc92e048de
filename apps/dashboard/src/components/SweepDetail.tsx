'use client';
// One sweep: status and counts, its trials (live), its analysis views and its leaderboard.
import Link from 'next/link';
import { memo, useEffect, useState } from 'react';
import { shortNames, variedKeys } from '@lmsweep/protocol/labels';
import { methodLabel } from '@lmsweep/protocol/methods';
import { getPath, isSampled } from '../lib/config';
import { formatCount, formatDateTime, formatDuration, formatPpl, formatValue, secondsBetween } from '../lib/format';
import { useLive, useNow, type Change } from '../lib/live';
import { describeError, isNotFound, trpc, type RouterOutputs } from '../lib/trpc';
import { SignInLink, useAuth } from './auth';
import { Empty, ErrorBanner, Loading, Pager, ProgressBar, StackedBar, StatusBadge, stoppedAt, TRIAL_STATUSES } from './bits';
import { Exportable } from './Exportable';
import { Notes } from './Notes';
import { Leaderboard } from './Leaderboard';
import { Extensions, ExtendSweep } from './ExtendSweep';
import { SearchPanel } from './SearchPanel';
import { Analysis } from './Analysis';

type Sweep = RouterOutputs['sweeps']['get'];
type TrialRow = RouterOutputs['trials']['list']['items'][number];
type TrialStatus = (typeof TRIAL_STATUSES)[number];
const PAGE = 200;

function CancelButton({ sweep, onDone }: { sweep: Sweep; onDone: () => void }) {
  const [armed, setArmed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!armed) return;
    const t = setTimeout(() => setArmed(false), 4_000);
    return () => clearTimeout(t);
  }, [armed]);
  const auth = useAuth();
  if (sweep.status !== 'running') return null;
  if (!auth.canWrite) {
    return (
      <SignInLink className="btn btn-danger" testId="sign-in-to-cancel">
        Sign in to cancel
      </SignInLink>
    );
  }
  return (
    <span className="cancel">
      <button
        type="button"
        className={`btn btn-danger${armed ? ' armed' : ''}`}
        data-testid="cancel-sweep"
        disabled={busy}
        onClick={async () => {
          if (!armed) return setArmed(true);
          setBusy(true);
          setError(null);
          try {
            await trpc().sweeps.cancel.mutate({ id: sweep.id });
            onDone();
          } catch (e) {
            setError(describeError(e));
          } finally {
            setBusy(false);
            setArmed(false);
          }
        }}
      >
        {busy ? 'Cancelling…' : armed ? 'Click again to cancel' : 'Cancel sweep'}
      </button>
      {error && <span className="warn small"> {error}</span>}
    </span>
  );
}

/** Memoized: its parent re-renders every second while the sweep runs (its elapsed time). */
const TrialsTable = memo(function TrialsTable({ sweep }: { sweep: Sweep }) {
  const [status, setStatus] = useState<TrialStatus | ''>('');
  const [offset, setOffset] = useState(0);
  const id = sweep.id;
  const live = useLive(
    `trials:${id}:${status}:${offset}`,
    (signal) => trpc().trials.list.query({ sweepId: id, status: status || undefined, sort: 'ordinal', order: 'asc', limit: PAGE, offset }, { signal }),
    { relevant: (c: Change) => (c.kind === 'trial' || c.kind === 'sweep') && (c.sweepId === id || c.id === id) },
  );
  // The grid's (or sampled space's) parameters beside the method (which has its own column, whether swept or not).
  const keys = variedKeys(sweep.spec).filter((k) => k !== 'method');
  const names = shortNames(keys);
  const items: TrialRow[] = live.data?.items ?? [];
  const total = live.data?.total ?? 0;
  // Running trials' durations count up; a page of finished ones stays still.
  const now = useNow(1_000, items.some((t) => t.status === 'running'));
  return (
    <section className="card" aria-labelledby="trials-title">
      <div className="card-head">
        <h2 id="trials-title">Trials</h2>
        <label className="field-inline">
          Status
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as TrialStatus | '');
              setOffset(0);
            }}
          >
            <option value="">all</option>
            {TRIAL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      {live.error ? <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} /> : null}
      {live.loading && !live.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <Empty>{status ? `No ${status} trials.` : 'No trials.'}</Empty>
      ) : (
        <Exportable kind="table" name={`trials-${sweep.id}`}>
          <div className="table-wrap">
            <table className="table" data-testid="trials-table">
              <thead>
                <tr>
                  <th scope="col" className="num">#</th>
                  <th scope="col">Method</th>
                  {keys.map((k) => (
                    <th scope="col" key={k} className="num" title={k}>
                      {names.get(k) ?? k}
                    </th>
                  ))}
                  <th scope="col" className="num">Seed</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="num">Attempt</th>
                  <th scope="col">Progress</th>
                  <th scope="col" className="num">Params</th>
                  <th scope="col" className="num">Valid ppl</th>
                  <th scope="col" className="num">Test ppl</th>
                  <th scope="col" className="num">Duration</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {items.map((t) => {
                  const running = t.status === 'running';
                  const secs = t.seconds ?? (t.startedAt ? secondsBetween(t.startedAt, t.finishedAt ?? (running ? now : null)) : null);
                  return (
                    <tr key={t.id} data-testid="trial-row">
                      <td className="num">
                        <Link href={`/trials/${t.id}`} title="trial details and curves">
                          {t.ordinal}
                        </Link>
                      </td>
                      <td>{methodLabel(t.method)}</td>
                      {keys.map((k) => (
                        <td key={k} className="num">
                          {formatValue(getPath(t.config, k))}
                        </td>
                      ))}
                      <td className="num">{t.seed}</td>
                      <td>
                        <StatusBadge status={t.status} />
                      </td>
                      <td className="num">
                        {t.attempt}/{t.maxAttempts}
                      </td>
                      <td className="cell-progress">
                        {running ? (
                          <ProgressBar value={t.progress} label={`progress of trial ${t.ordinal}`} />
                        ) : stoppedAt(t) ? (
                          <span className="muted small stopped-at" data-testid="stopped-at" title={(t.verdict as { reason?: string } | null)?.reason}>
                            {stoppedAt(t)}
                          </span>
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                      <td className="num">{formatCount(t.params)}</td>
                      <td className="num">
                        {t.flag && (
                          <span className="flagged" title={`flagged, left out of the leaderboard's mean: ${t.flag}`} data-testid="trial-flag-mark">
                            ⚑{' '}
                          </span>
                        )}
                        {formatPpl(t.validPpl)}
                      </td>
                      <td className="num">{formatPpl(t.testPpl)}</td>
                      <td className="num">{formatDuration(secs)}</td>
                      <td className="err" title={t.error ?? undefined}>
                        {t.error ? (t.error.length > 90 ? `${t.error.slice(0, 90)}…` : t.error) : ''}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </Exportable>
      )}
      <Pager offset={offset} pageSize={PAGE} total={total} onOffset={setOffset} />
    </section>
  );
});

export function SweepDetail({ id }: { id: string }) {
  const live = useLive(`sweep:${id}`, (signal) => trpc().sweeps.get.query({ id }, { signal }), {
    relevant: (c) => (c.kind === 'sweep' && c.id === id) || (c.kind === 'trial' && c.sweepId === id && c.status !== 'running'),
  });
  const s = live.data;
  const now = useNow(1_000, !!s && !s.finishedAt);
  const name = s?.name;
  useEffect(() => {
    if (name) document.title = `${name} · lmsweep`;
  }, [name]);
  if (!s) {
    if (live.error) return isNotFound(live.error) ? <Empty>Sweep {id} not found.</Empty> : <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} />;
    return <Loading />;
  }
  const c = s.counts;
  const description = getPath(s.spec, 'description');
  const elapsed = secondsBetween(s.createdAt, s.finishedAt ?? now);
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link href="/">Sweeps</Link> / {s.name}
      </nav>
      {live.error ? <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} /> : null}
      <section className="card sweep-head">
        <div className="card-head">
          <h1>
            {s.name} <StatusBadge status={s.status} />
          </h1>
          <div className="actions" style={{ marginTop: 0 }}>
            <Link href={`/leaderboard?sweep=${encodeURIComponent(s.id)}`} className="btn" data-testid="open-leaderboard">
              Leaderboard
            </Link>
            <CancelButton sweep={s} onDone={live.refresh} />
          </div>
        </div>
        {typeof description === 'string' && description && <p className="muted" style={{ margin: 0 }}>{description}</p>}
        <div className="sweep-meta">
          <span className="mono">{s.id}</span>
          <span>created {formatDateTime(s.createdAt)}</span>
          {s.finishedAt && <span>finished {formatDateTime(s.finishedAt)}</span>}
          <span>{s.finishedAt ? 'took' : 'running for'} {formatDuration(elapsed)}</span>
        </div>
        <Extensions sweep={s} />
        <ExtendSweep sweep={s} onDone={live.refresh} />
        <div className="stacked-wrap"><StackedBar counts={c} total={c.total} wide /></div>
        <div className="counts" data-testid="sweep-counts">
          {TRIAL_STATUSES.map((k) => (
            <span key={k} className="k">
              <i className={`seg-${k}`} />
              {c[k]} {k}
            </span>
          ))}
          <span className="k muted">{c.total} trials</span>
        </div>
        <details>
          <summary className="muted">Spec</summary>
          <pre className="json">{s.specText}</pre>
        </details>
      </section>
      <Notes kind="sweep" id={s.id} note={s.note} updatedAt={s.noteUpdatedAt} onSaved={live.refresh} />
      {isSampled(s.spec) && <SearchPanel sweepId={s.id} />}
      <TrialsTable sweep={s} />
      <Analysis sweepId={s.id} />
      <section className="card" aria-labelledby="lb-title">
        <div className="card-head">
          <h2 id="lb-title">Leaderboard</h2>
          <Link href={`/leaderboard?sweep=${encodeURIComponent(s.id)}`}>open full page →</Link>
        </div>
        <Leaderboard sweepId={s.id} spec={s.spec} />
      </section>
    </>
  );
}
