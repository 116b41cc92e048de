'use client';
// Configurations ranked by perplexity per parameter count: a table and a Pareto scatter.
import Link from 'next/link';
import { useMemo, useState } from 'react';
import { gridKeys, getPath, shortLabel, varyingPaths } from '../lib/config';
import { formatCount, formatPpl, formatPplCI, formatRatio, formatValue, shortId } from '../lib/format';
import { useLive, type Change } from '../lib/live';
import { describeError, trpc, type RouterOutputs } from '../lib/trpc';
import { Empty, ErrorBanner, Loading } from './bits';
import { PALETTE, ParetoScatter, type ScatterPoint } from './charts';

type Entry = RouterOutputs['leaderboard']['list'][number];
export type LeaderboardSort = 'pareto' | 'validPpl' | 'testPpl' | 'params';

const SORTS: { value: LeaderboardSort; label: string }[] = [
  { value: 'pareto', label: 'Pareto rank, then valid ppl' },
  { value: 'validPpl', label: 'Valid perplexity' },
  { value: 'testPpl', label: 'Test perplexity' },
  { value: 'params', label: 'Parameters' },
];

/** The interval's bounds for a tooltip. With one seed there is none: NaN on the server, null over JSON. */
function ciTitle(iv: { lo: number | null; hi: number | null }): string | undefined {
  return Number.isFinite(iv.lo) && Number.isFinite(iv.hi) ? `95% CI [${formatPpl(iv.lo)}, ${formatPpl(iv.hi)}]` : 'one seed: no interval';
}

function relevantTo(sweepId: string | undefined) {
  return (c: Change) =>
    (c.kind === 'trial' || c.kind === 'sweep') &&
    (!sweepId || !c.sweepId || c.sweepId === sweepId || (c.kind === 'sweep' && c.id === sweepId)) &&
    // Only finished trials enter the ranking: heartbeats of running ones change nothing here.
    c.status !== 'running' &&
    c.status !== 'queued';
}

export function Leaderboard({ sweepId, spec, showSweep = !sweepId }: { sweepId?: string; spec?: unknown; showSweep?: boolean }) {
  const [sort, setSort] = useState<LeaderboardSort>('pareto');
  const live = useLive(
    `leaderboard:${sweepId ?? '*'}:${sort}`,
    (signal) => trpc().leaderboard.list.query({ sweepId, sort }, { signal }),
    { relevant: relevantTo(sweepId) },
  );
  const entries: Entry[] = live.data ?? [];

  const methods = useMemo(() => [...new Set(entries.map((e) => e.method))].sort(), [entries]);
  const methodColor = (m: string) => PALETTE[Math.max(0, methods.indexOf(m)) % PALETTE.length]!;
  // The sweep's grid parameters (even while only one configuration has finished), then
  // whatever else differs between the configurations shown (across sweeps).
  const paths = useMemo(() => {
    const grid = gridKeys(spec);
    return [...new Set([...grid, ...varyingPaths(entries.map((e) => e.config), grid)])].filter((p) => p !== 'method');
  }, [entries, spec]);
  const describe = (e: Entry) => (paths.length ? paths.map((p) => `${shortLabel(p, paths)}=${formatValue(getPath(e.config, p))}`).join(', ') : 'base config');

  const points: ScatterPoint[] = entries.map((e) => ({
    key: `${e.sweepId}/${e.configKey}`,
    label: describe(e),
    method: e.method,
    params: e.params,
    mean: e.validPpl.mean,
    // Non-finite numbers (one seed: no interval) arrive as null.
    lo: e.validPpl.lo ?? Number.NaN,
    hi: e.validPpl.hi ?? Number.NaN,
    halfWidth: e.validPpl.halfWidth ?? Number.NaN,
    seeds: e.seeds.length,
    paretoRank: e.paretoRank,
    compression: e.compression,
    isBaseline: e.isBaseline,
  }));

  return (
    <div className="leaderboard">
      <div className="toolbar">
        <label className="field-inline">
          Sort by
          <select value={sort} onChange={(ev) => setSort(ev.target.value as LeaderboardSort)} data-testid="leaderboard-sort">
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">
          {entries.length} configuration{entries.length === 1 ? '' : 's'} with finished trials · ★ = Pareto front on (parameters, valid perplexity)
        </span>
      </div>
      {live.error ? <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} /> : null}
      {live.loading && !live.data ? (
        <Loading />
      ) : entries.length === 0 ? (
        <Empty>No finished trials yet: configurations appear here as their trials succeed.</Empty>
      ) : (
        <div className="lb-grid">
          <div className="table-wrap">
            <table className="table" data-testid="leaderboard-table">
              <thead>
                <tr>
                  <th scope="col" className="num">#</th>
                  {showSweep && <th scope="col">Sweep</th>}
                  <th scope="col">Configuration</th>
                  <th scope="col">Method</th>
                  <th scope="col" className="num">Params</th>
                  <th scope="col" className="num" title="Baseline parameters / these parameters">Compression</th>
                  <th scope="col" className="num" title="Mean over seeds ± half-width of the 95% confidence interval">Valid ppl</th>
                  <th scope="col" className="num" title="Mean over seeds ± half-width of the 95% confidence interval">Test ppl</th>
                  <th scope="col">Seeds (n)</th>
                  <th scope="col" className="num">Pareto</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e, i) => (
                  <tr key={`${e.sweepId}/${e.configKey}`} data-testid="leaderboard-row" className={e.paretoRank === 0 ? 'front' : undefined}>
                    <td className="num muted">{i + 1}</td>
                    {showSweep && (
                      <td>
                        <Link href={`/sweeps/${e.sweepId}`} className="mono">
                          {shortId(e.sweepId)}
                        </Link>
                      </td>
                    )}
                    <td>
                      <span className="swatch round" style={{ background: methodColor(e.method) }} aria-hidden="true" /> {describe(e)}
                      {e.isBaseline && <span className="tag">baseline</span>}
                    </td>
                    <td>{e.method}</td>
                    <td className="num" title={e.params.toLocaleString('en-US')}>
                      {formatCount(e.params)}
                    </td>
                    <td className="num">{formatRatio(e.compression)}</td>
                    <td className="num" data-testid="valid-ppl" title={ciTitle(e.validPpl)}>
                      {formatPplCI(e.validPpl.mean, e.validPpl.halfWidth)}
                    </td>
                    <td className="num" title={ciTitle(e.testPpl)}>
                      {formatPplCI(e.testPpl.mean, e.testPpl.halfWidth)}
                    </td>
                    <td data-testid="seeds">
                      <span className="seeds">
                        {e.seeds.length}{' '}
                        <span className="muted">
                          (
                          {e.seeds.map((s, k) => (
                            <span key={s}>
                              {k > 0 && ', '}
                              <Link href={`/trials/${e.trialIds[k]}`} title={`trial of seed ${s}`}>
                                {s}
                              </Link>
                            </span>
                          ))}
                          )
                        </span>
                      </span>
                    </td>
                    <td className="num">{e.paretoRank === 0 ? <span className="star" title="on the Pareto front">★</span> : e.paretoRank}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <ParetoScatter points={points} methodColor={methodColor} />
        </div>
      )}
    </div>
  );
}
