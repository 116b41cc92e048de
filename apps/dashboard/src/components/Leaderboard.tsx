'use client';
// Configurations ranked by perplexity per parameter count: a table and a Pareto scatter; below
// them, a pruned sweep's configurations stopped early (no seed finished), unranked.
import Link from 'next/link';
import { memo, useEffect, useMemo, useState } from 'react';
import { configLabels, variedKeys } from '@lmsweep/protocol/labels';
import { methodLabel } from '@lmsweep/protocol/methods';
import { formatCount, formatPpl, formatPplCI, formatRatio, shortId } from '../lib/format';
import { useLive, type Change } from '../lib/live';
import { describeError, trpc, type RouterOutputs } from '../lib/trpc';
import { Empty, ErrorBanner, Loading, Pager } from './bits';
import { PALETTE, ParetoScatter, type ScatterPoint } from './charts';
import { Exportable } from './Exportable';

type Page = RouterOutputs['leaderboard']['page'];
type Entry = Page['entries'][number];
type StoppedEntry = RouterOutputs['leaderboard']['stopped']['entries'][number];

/** Configurations per page of the table (the plot shows them all). */
const PAGE = 100;
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

/** "groupreduce rate 4, 10 blocks": the method in bold, then its settings. */
function ConfigLabel({ label, method }: { label: string; method: string }) {
  const name = methodLabel(method);
  const rest = label.startsWith(name) ? label.slice(name.length) : ` ${label}`;
  return (
    <span data-testid="config-label">
      <strong className="method">{name}</strong>
      {rest}
    </span>
  );
}

/** Seeds stored but kept out of the mean (a result far below every other seed): a marker, the reasons on hover, each seed a link to its trial. */
function FlaggedSeeds({ flagged }: { flagged: Entry['flagged'] }) {
  if (!flagged.length) return null;
  const title = [`${flagged.length === 1 ? 'one seed' : `${flagged.length} seeds`} left out of the mean:`, ...flagged.map((f) => `seed ${f.seed}: ${f.flag}`)].join('\n');
  return (
    <span className="flagged" data-testid="flagged-seeds" title={title}>
      ⚑{' '}
      {flagged.map((f, k) => (
        <span key={f.trialId}>
          {k > 0 && ', '}
          <Link href={`/trials/${f.trialId}`} aria-label={`flagged seed ${f.seed}: ${f.flag}`}>
            {f.seed}
          </Link>
        </span>
      ))}
    </span>
  );
}

/** "stopped at step 300"; "paused at step 600" while a seed may still be promoted. */
const stoppedAtText = (e: Pick<StoppedEntry, 'status' | 'steps'>) => `${e.status === 'paused' ? 'paused' : 'stopped'}${e.steps === null ? '' : ` at step ${e.steps}`}`;

/**
 * Configurations whose seeds were all stopped early (pruned, or paused at a rung), none finished:
 * where they stopped, their rung and last value, each seed a link to its trial. Nothing when
 * there are none (a sweep without a pruner never has any).
 */
function StoppedEarly({ sweepId, showSweep, ranked, spec }: { sweepId?: string; showSweep: boolean; ranked: Entry[]; spec?: unknown }) {
  const [offset, setOffset] = useState(0);
  const live = useLive(`leaderboard-stopped:${sweepId ?? '*'}:${offset}`, (signal) => trpc().leaderboard.stopped.query({ sweepId, offset, limit: PAGE }, { signal }), { relevant: relevantTo(sweepId) });
  const entries: StoppedEntry[] = live.data?.entries ?? [];
  const total = live.data?.total ?? 0;
  // Labelled with the ranked rows, so both tables name the same fields.
  const labels = useMemo(() => configLabels([...ranked, ...entries.map((e) => ({ ...e, isBaseline: false }))], { prefer: variedKeys(spec), baselineSuffix: false }).slice(ranked.length), [ranked, entries, spec]);
  if (live.error && !live.data) return <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} />;
  if (!total) return null;
  return (
    <section className="stopped-early" aria-labelledby="stopped-early-title" data-testid="stopped-early">
      <h3 id="stopped-early-title">Stopped early</h3>
      <p className="muted small" style={{ margin: '0 0 8px' }}>
        {total} configuration{total === 1 ? '' : 's'} the pruner stopped (or paused at a rung) before any seed finished: not ranked, shown with the step they reached and their last validation perplexity there.
      </p>
      <Exportable kind="table" name={`stopped-early-${sweepId ?? 'all'}`}>
        <div className="table-wrap">
          <table className="table" data-testid="stopped-table">
            <thead>
              <tr>
                <th scope="col">Configuration</th>
                {showSweep && <th scope="col">Sweep</th>}
                <th scope="col">Stopped</th>
                <th scope="col" className="num">Rung</th>
                <th scope="col" className="num" title="At the step it reached: the mean over the seeds that got that far">Last valid ppl</th>
                <th scope="col">Seeds (n)</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e, i) => {
                const furthest = e.trials.find((t) => t.steps === e.steps) ?? e.trials[0];
                return (
                  <tr key={`${e.sweepId}/${e.configKey}`} data-testid="stopped-row">
                    <td className="config">
                      <ConfigLabel label={labels[i] ?? e.method} method={e.method} />
                    </td>
                    {showSweep && (
                      <td>
                        <Link href={`/sweeps/${e.sweepId}`} className="mono">
                          {shortId(e.sweepId)}
                        </Link>
                      </td>
                    )}
                    <td className="stopped-at" data-testid="stopped-at">
                      {stoppedAtText(e)}
                    </td>
                    <td className="num">{e.rung ?? '—'}</td>
                    <td className="num" data-testid="stopped-ppl">
                      {formatPpl(e.validPpl)}
                    </td>
                    <td>
                      <span className="seeds">
                        {e.seeds.length}{' '}
                        <span className="muted">
                          (
                          {e.trials.map((t, k) => (
                            <span key={t.trialId}>
                              {k > 0 && ', '}
                              <Link href={`/trials/${t.trialId}`} title={`seed ${t.seed}: ${t.status}${t.steps === null ? '' : ` at step ${t.steps}`}, valid ppl ${formatPpl(t.validPpl)}`}>
                                {t.seed}
                              </Link>
                            </span>
                          ))}
                          )
                        </span>
                      </span>
                    </td>
                    <td className="why" title={furthest?.reason ?? undefined}>
                      {furthest?.reason ? (furthest.reason.length > 80 ? `${furthest.reason.slice(0, 80)}…` : furthest.reason) : ''}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </Exportable>
      <Pager offset={offset} pageSize={PAGE} total={total} onOffset={setOffset} />
    </section>
  );
}

/** The DOM id of a configuration's row in one sweep's leaderboard (the search panel links to it). */
export const leaderboardRowId = (configKey: string) => `lb-${configKey}`;

/** Memoized: a sweep page re-renders every second while the sweep runs. */
export const Leaderboard = memo(function Leaderboard({ sweepId, spec, showSweep = !sweepId }: { sweepId?: string; spec?: unknown; showSweep?: boolean }) {
  const [sort, setSort] = useState<LeaderboardSort>('pareto');
  const [offset, setOffset] = useState(0);
  const live = useLive(
    `leaderboard:${sweepId ?? '*'}:${sort}:${offset}`,
    (signal) => trpc().leaderboard.page.query({ sweepId, sort, offset, limit: PAGE }, { signal }),
    { relevant: relevantTo(sweepId) },
  );
  const page: Page | undefined = live.data;
  const entries: Entry[] = page?.entries ?? [];
  const total = page?.total ?? 0;

  const methods = useMemo(() => page?.plot.methods ?? [], [page]);
  const methodColor = (m: string) => PALETTE[Math.max(0, methods.indexOf(m)) % PALETTE.length]!;
  // One label per configuration, for the whole ranking (the server's, @lmsweep/protocol/labels
  // as the CLI's leaderboard says it, the sweep's varied fields named even while only one
  // configuration has finished); the baseline gets a tag instead of " (baseline)".
  const describe = (e: Entry, i: number) => page?.plot.label[(page?.offset ?? 0) + i] ?? e.method;

  // Every configuration of the ranking, from the page's compact columns (index i = rank i), each
  // named by its label there; those on this page of the table are keyed by their configuration.
  const points: ScatterPoint[] = useMemo(() => {
    if (!page) return [];
    const c = page.plot;
    return c.params.map((params, i) => {
      const e = i >= page.offset && i < page.offset + page.entries.length ? page.entries[i - page.offset] : undefined;
      return {
        key: e ? `${e.sweepId}/${e.configKey}` : `#${i}`,
        rank: i,
        label: c.label[i]!,
        method: c.methods[c.method[i]!]!,
        params,
        mean: c.mean[i]!,
        // Non-finite numbers (one seed: no interval) arrive as null.
        lo: c.lo[i] ?? Number.NaN,
        hi: c.hi[i] ?? Number.NaN,
        halfWidth: c.halfWidth[i] ?? Number.NaN,
        seeds: c.seeds[i]!,
        paretoRank: c.paretoRank[i]!,
        compression: c.compression[i] ?? null,
        isBaseline: c.isBaseline[i]!,
      };
    });
  }, [page]);

  // Configurations picked to compare (one sweep's; 2 to 8).
  const [picked, setPicked] = useState<string[]>([]);
  const toggle = (key: string) => setPicked((cur) => (cur.includes(key) ? cur.filter((k) => k !== key) : cur.length >= 8 ? cur : [...cur, key]));
  const compareHref = sweepId ? `/compare?sweep=${encodeURIComponent(sweepId)}${picked.map((k) => `&c=${encodeURIComponent(k)}`).join('')}` : '';

  // A click on a point of the plot opens its row: the page it is on, scrolled to and highlighted.
  const [opened, setOpened] = useState<number | null>(null);
  useEffect(() => {
    if (opened === null || !page || opened < page.offset || opened >= page.offset + page.entries.length) return;
    const row = document.querySelector(`[data-rank="${opened}"]`);
    row?.scrollIntoView({ block: 'center', behavior: 'smooth' });
    (row?.querySelector('a, td') as HTMLElement | null)?.focus?.();
  }, [opened, page]);
  const open = (rank: number) => {
    setOpened(rank);
    if (!page || rank < page.offset || rank >= page.offset + page.entries.length) setOffset(Math.floor(rank / PAGE) * PAGE);
  };

  return (
    <div className="leaderboard">
      <div className="toolbar">
        <label className="field-inline">
          Sort by
          <select
            value={sort}
            onChange={(ev) => {
              setSort(ev.target.value as LeaderboardSort);
              setOffset(0);
            }}
            data-testid="leaderboard-sort"
          >
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">
          {total} configuration{total === 1 ? '' : 's'} with finished trials · ★ = Pareto front on (parameters, valid perplexity)
        </span>
        {sweepId && (
          <span className="compare-pick">
            {picked.length >= 2 ? (
              <Link href={compareHref} className="btn btn-small" data-testid="compare-open">
                Compare {picked.length}
              </Link>
            ) : (
              <span className="muted small" data-testid="compare-hint">
                {picked.length === 1 ? 'pick one more to compare' : 'tick 2–8 configurations to compare them'}
              </span>
            )}
          </span>
        )}
      </div>
      {live.error ? <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} /> : null}
      {live.loading && !live.data ? (
        <Loading />
      ) : entries.length === 0 ? (
        <Empty>No finished trials yet: configurations appear here as their trials succeed.</Empty>
      ) : (
        <div className="lb-grid">
          <Exportable kind="table" name={`leaderboard-${sweepId ?? 'all'}`}>
            <div className="table-wrap">
              <table className="table" data-testid="leaderboard-table">
                <thead>
                  <tr>
                    {sweepId && (
                      <th scope="col" className="pick">
                        <span className="sr-only">Compare</span>
                      </th>
                    )}
                    <th scope="col" className="num">#</th>
                    <th scope="col">Configuration</th>
                    {showSweep && <th scope="col">Sweep</th>}
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
                    <tr key={`${e.sweepId}/${e.configKey}`} id={sweepId ? leaderboardRowId(e.configKey) : undefined} data-testid="leaderboard-row" data-rank={(page?.offset ?? 0) + i} className={[e.paretoRank === 0 ? 'front' : '', opened === (page?.offset ?? 0) + i ? 'opened' : ''].filter(Boolean).join(' ') || undefined}>
                      {sweepId && (
                        <td className="pick">
                          <input type="checkbox" checked={picked.includes(e.configKey)} onChange={() => toggle(e.configKey)} aria-label={`compare ${describe(e, i)}`} data-testid="compare-check" />
                        </td>
                      )}
                      <td className="num muted">{(page?.offset ?? 0) + i + 1}</td>
                      <td className="config">
                        <span className="swatch round" style={{ background: methodColor(e.method) }} aria-hidden="true" />{' '}
                        <ConfigLabel label={describe(e, i)} method={e.method} />
                        {e.isBaseline && <span className="tag">baseline</span>}
                      </td>
                      {showSweep && (
                        <td>
                          <Link href={`/sweeps/${e.sweepId}`} className="mono">
                            {shortId(e.sweepId)}
                          </Link>
                        </td>
                      )}
                      <td className="num" title={e.params.toLocaleString('en-US')}>
                        {formatCount(e.params)}
                      </td>
                      <td className="num">{formatRatio(e.compression)}</td>
                      <td className="num" data-testid="valid-ppl" title={ciTitle(e.validPpl)}>
                        {formatPplCI(e.validPpl.mean, e.validPpl.halfWidth)}
                        {e.ciTarget !== null && !e.ciTight && (
                          <span className="ci-wide" data-testid="ci-wide" title={`wider than the sweep's target (±${e.ciTarget}): more seeds would narrow it`}>
                            {' '}~
                          </span>
                        )}
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
                          <FlaggedSeeds flagged={e.flagged} />
                        </span>
                      </td>
                      <td className="num">{e.paretoRank === 0 ? <span className="star" title="on the Pareto front">★</span> : e.paretoRank}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Exportable>
          <Exportable kind="plot" name={`pareto-${sweepId ?? 'all'}`}>
            <ParetoScatter points={points} methodColor={methodColor} onOpen={open} />
          </Exportable>
        </div>
      )}
      <Pager offset={offset} pageSize={PAGE} total={total} onOffset={setOffset} />
      <StoppedEarly sweepId={sweepId} showSweep={showSweep} ranked={entries} spec={spec} />
    </div>
  );
});
