'use client';
// A sampled sweep's search on its page (sweeps.search): the sampler and its budget, the best
// configuration so far, the points it could not queue, and after each finished configuration
// the best validation perplexity — with two objectives also the hypervolume of the front of
// parameters against perplexity. Nothing for a grid sweep.
import { formatCount, formatPpl, formatValue } from '../lib/format';
import { useLive } from '../lib/live';
import { describeError, trpc, type RouterOutputs } from '../lib/trpc';
import { ErrorBanner } from './bits';
import { Exportable } from './Exportable';
import { LineChart, PALETTE, type Series } from './charts';
import { leaderboardRowId } from './Leaderboard';

type Search = NonNullable<RouterOutputs['sweeps']['search']>;

/** A value of a sampled point: floats to four significant digits. */
const pointValue = (v: string | number | boolean) => (typeof v === 'boolean' ? String(v) : formatValue(v));

function Budget({ s }: { s: Search }) {
  const used = s.budget > 0 ? Math.min(1, s.chosen / s.budget) : 0;
  const done = s.budget > 0 ? Math.min(1, s.finished / s.budget) : 0;
  const label = `${s.chosen} of ${s.budget} configurations chosen, ${s.finished} finished`;
  return (
    <div className="search-budget">
      <div className="search-budget-head">
        <span>
          Budget <strong data-testid="search-budget">{s.chosen}/{s.budget}</strong> configurations chosen
        </span>
        <span className="muted small" data-testid="search-finished">
          {s.finished} finished · {s.inFlight} in flight of {s.parallel} at a time
        </span>
      </div>
      <div className="budget-bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={s.budget} aria-valuenow={s.chosen} title={label}>
        <span className="budget-chosen" style={{ width: `${used * 100}%` }} />
        <span className="budget-done" style={{ width: `${done * 100}%` }} />
      </div>
    </div>
  );
}

function Best({ best }: { best: Search['best'] }) {
  if (!best) return <p className="muted small" data-testid="search-best">No configuration has finished yet.</p>;
  const entries = Object.entries(best.point);
  return (
    <div className="search-best" data-testid="search-best">
      <h3>Best so far</h3>
      <dl className="facts">
        <div className="fact">
          <dt>Valid ppl</dt>
          <dd data-testid="search-best-ppl">{formatPpl(best.validPpl)}</dd>
          <dd className="muted small">
            mean of {best.seeds} seed{best.seeds === 1 ? '' : 's'}
          </dd>
        </div>
        <div className="fact">
          <dt>Params</dt>
          <dd data-testid="search-best-params">{formatCount(best.params)}</dd>
        </div>
        {entries.map(([k, v]) => (
          <div className="fact" key={k}>
            <dt title={k}>{k}</dt>
            <dd className="mono" data-testid="search-best-value">
              {pointValue(v)}
            </dd>
          </div>
        ))}
      </dl>
      <a className="small" href={`#${leaderboardRowId(best.configKey)}`} data-testid="search-best-link">
        its row in the leaderboard ↓
      </a>
    </div>
  );
}

function Rejected({ s }: { s: Search }) {
  if (!s.rejected && !s.exhausted) return null;
  return (
    <div className="search-rejected" data-testid="search-rejected">
      {s.exhausted && (
        <p className="search-exhausted" data-testid="search-exhausted">
          <strong>The sampler stopped early:</strong> {s.exhausted}
        </p>
      )}
      {s.rejected > 0 && (
        <>
          <h3>
            {s.rejected} point{s.rejected === 1 ? '' : 's'} rejected <span className="muted small">(infeasible or repeated: never queued)</span>
          </h3>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col" className="num">Count</th>
                  <th scope="col">Example</th>
                </tr>
              </thead>
              <tbody>
                {s.reasons.map((r) => (
                  <tr key={r.path} data-testid="search-reason">
                    <td className="mono">{r.path}</td>
                    <td className="num">{r.count}</td>
                    <td className="wrap">{r.example}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}

function Charts({ s }: { s: Search }) {
  const each: Series = {
    label: 'each configuration',
    color: '#94a3b8',
    dots: true,
    points: s.trace.filter((t) => t.validPpl !== null).map((t) => ({ x: t.finished, y: t.validPpl! })),
  };
  const best: Series = { label: 'best so far', color: PALETTE[0]!, points: s.trace.filter((t) => t.best !== null).map((t) => ({ x: t.finished, y: t.best! })) };
  const ys = each.points.map((p) => p.y).filter((y) => Number.isFinite(y) && y > 0);
  // A diverged configuration would flatten the best line on a linear axis.
  const yLog = ys.length > 1 && Math.max(...ys) / Math.min(...ys) > 3;
  const twoObjectives = s.objectives.includes('params');
  const hv: Series = { label: 'hypervolume', color: PALETTE[2]!, points: s.trace.filter((t) => t.hypervolume !== null).map((t) => ({ x: t.finished, y: t.hypervolume! })) };
  return (
    <div className="charts">
      <div>
        <h3>Best validation perplexity</h3>
        <Exportable kind="plot" name="search-best">
          <LineChart series={[each, best]} xLabel="configurations finished" yLabel="valid perplexity" yLog={yLog} height={240} title="Best validation perplexity so far against configurations finished" testId="search-best-chart" />
        </Exportable>
      </div>
      {twoObjectives && (
        <div>
          <h3>Hypervolume of the front</h3>
          <Exportable kind="plot" name="search-hypervolume">
            <LineChart series={[hv]} xLabel="configurations finished" yLabel="hypervolume" height={240} title="Hypervolume of the front against configurations finished" testId="search-hv-chart" />
          </Exportable>
          {s.reference && (
            <p className="muted small search-note" data-testid="search-reference">
              The area dominated by the front of parameters × valid perplexity, up to {formatCount(s.reference[0])} parameters and perplexity {formatPpl(s.reference[1])}.
            </p>
          )}
        </div>
      )}
    </div>
  );
}

export function SearchPanel({ sweepId }: { sweepId: string }) {
  const live = useLive(`search:${sweepId}`, (signal) => trpc().sweeps.search.query({ id: sweepId }, { signal }), {
    relevant: (c) => (c.kind === 'sweep' && c.id === sweepId) || (c.kind === 'trial' && c.sweepId === sweepId),
  });
  const s = live.data;
  if (!s) return live.error ? <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} /> : null;
  return (
    <section className="card" aria-labelledby="search-title" data-testid="search-panel">
      <div className="card-head">
        <h2 id="search-title">Search</h2>
        <span className="search-sampler" data-testid="search-sampler">
          <span className="badge">{s.sampler}</span>
          <span className="muted small">
            seed {s.seed} · {s.objectives.length === 1 ? 'objective' : 'objectives'} {s.objectives.join(', ')}
          </span>
        </span>
      </div>
      {live.error ? <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} /> : null}
      <div className="search-grid">
        <div className="search-side">
          <Budget s={s} />
          <Best best={s.best} />
        </div>
        <Charts s={s} />
      </div>
      <Rejected s={s} />
    </section>
  );
}
