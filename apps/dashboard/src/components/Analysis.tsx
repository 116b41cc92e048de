'use client';
// A sweep's analysis views (sweeps.analysis), as optuna-dashboard and W&B's sweep page offer them:
// Optimization history (best so far per finished trial; hypervolume with two objectives),
// Intermediate values (every trial's validation curve, × where a pruned one stopped, ▲ where a
// promoted one resumed), Parallel coordinates (drag along an axis to filter the table under it),
// Parameter importance (random forest), and a slice plot per parameter.
import Link from 'next/link';
import { memo, useMemo, useState } from 'react';
import { methodLabel } from '@lmsweep/protocol/methods';
import { formatCount, formatPpl, formatValue } from '../lib/format';
import { useLive } from '../lib/live';
import { describeError, trpc, type RouterOutputs } from '../lib/trpc';
import { Empty, ErrorBanner, Loading, StatusBadge } from './bits';
import { LineChart, PALETTE, type Series } from './charts';
import { Exportable } from './Exportable';
import { describeBrush, ImportanceChart, inBrush, ParallelCoordinates, SlicePlot, type Brush, type PcAxis, type PcLine } from './analysis-charts';

type Analysis = RouterOutputs['sweeps']['analysis'];
type Row = Analysis['rows'][number];

const STATUS_COLOR: Record<string, string> = { succeeded: PALETTE[0]!, pruned: '#8b5cf6', paused: '#d97706', running: '#0891b2' };
const SHOWN_ROWS = 50;
/** Most lines the parallel coordinates draw and points each slice plot draws (the best by perplexity; the table filters every trial). */
const MAX_LINES = 2_000;
const MAX_SLICE_POINTS = 3_000;

/** The best `max` rows by validation perplexity, in their order. */
const best = <T extends { validPpl: number | null }>(rows: T[], max: number): T[] => (rows.length <= max ? rows : [...rows].sort((x, y) => (x.validPpl ?? Infinity) - (y.validPpl ?? Infinity)).slice(0, max));

/** Colours by method where the sweep varies it (the leaderboard's order), else by status. */
function colorer(a: Analysis): (r: { method: string; status: string }) => string {
  const methods = [...new Set(a.rows.map((r) => r.method))];
  if (methods.length > 1) return (r) => PALETTE[methods.indexOf(r.method) % PALETTE.length]!;
  return (r) => STATUS_COLOR[r.status] ?? '#64748b';
}

function describeRow(a: Analysis, r: Row): string {
  const fields = a.parameters.map((p, j) => `${p.short} ${r.values[j] === null ? '—' : formatValue(r.values[j])}`);
  return [`trial #${r.ordinal} (${r.status})`, ...fields, `seed ${r.seed}`, `valid ppl ${formatPpl(r.validPpl)}`, r.params !== null ? `params ${formatCount(r.params)}` : ''].filter(Boolean).join(' · ');
}

function History({ a }: { a: Analysis }) {
  const each: Series = { label: 'each finished trial', color: '#94a3b8', dots: true, points: a.history.filter((h) => h.validPpl !== null).map((h) => ({ x: h.finished, y: h.validPpl! })) };
  const best: Series = { label: 'best so far', color: PALETTE[0]!, points: a.history.filter((h) => h.best !== null).map((h) => ({ x: h.finished, y: h.best! })) };
  const ys = each.points.map((p) => p.y).filter((y) => y > 0);
  const yLog = ys.length > 1 && Math.max(...ys) / Math.min(...ys) > 3;
  const hv: Series = { label: 'hypervolume', color: PALETTE[2]!, points: a.history.filter((h) => h.hypervolume !== null).map((h) => ({ x: h.finished, y: h.hypervolume! })) };
  return (
    <div data-testid="view-history">
      <h3>Optimization history</h3>
      <Exportable kind="plot" name="optimization-history">
        <LineChart series={[each, best]} xLabel="trials finished" yLabel="valid perplexity" yLog={yLog} height={250} title="Optimization history: validation perplexity of each finished trial and the best so far" testId="history-chart" />
      </Exportable>
      {a.reference && (
        <Exportable kind="plot" name="hypervolume">
          <LineChart series={[hv]} xLabel="trials finished" yLabel="hypervolume" height={200} title="Optimization history: hypervolume of the front of parameters against validation perplexity" testId="history-hv-chart" />
        </Exportable>
      )}
    </div>
  );
}

function Intermediate({ a, color }: { a: Analysis; color: (r: { method: string; status: string }) => string }) {
  const byId = new Map(a.rows.map((r) => [r.id, r]));
  const series: Series[] = a.curves.map((c) => {
    const r = byId.get(c.trialId)!;
    const pts = c.points.map(([x, y]) => ({ x, y: y ?? Number.NaN }));
    const at = (step: number) => pts.filter((p) => p.x <= step && Number.isFinite(p.y)).at(-1)?.y ?? Number.NaN;
    return {
      label: describeRow(a, r),
      color: color(r),
      faint: true,
      points: pts,
      marks: [...c.resumedAt.map((x) => ({ x, y: at(x), kind: 'resumed' as const })), ...(c.status === 'pruned' && c.stoppedAt !== null ? [{ x: c.stoppedAt, y: at(c.stoppedAt), kind: 'stopped' as const }] : [])],
    };
  });
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => Number.isFinite(y) && y > 0);
  const yLog = ys.length > 1 && Math.max(...ys) / Math.min(...ys) > 3;
  const pruned = a.curves.filter((c) => c.status === 'pruned').length;
  const resumed = a.curves.filter((c) => c.resumedAt.length > 0).length;
  if (a.curvesTotal === 0) {
    return (
      <div data-testid="view-intermediate">
        <h3>Intermediate values</h3>
        <p className="empty">No trial reported validation points: budget.evalEvery records a curve for each.</p>
      </div>
    );
  }
  return (
    <div data-testid="view-intermediate">
      <h3>Intermediate values</h3>
      <Exportable kind="plot" name="intermediate-values">
        <LineChart series={series} xLabel="step" yLabel="valid perplexity" yLog={yLog} height={250} legend={false} title={`Intermediate values: validation perplexity against steps of ${a.curves.length} trials`} testId="intermediate-chart" />
      </Exportable>
      <p className="legend" data-testid="intermediate-legend">
        <span className="legend-item muted">
          {a.curves.length < a.curvesTotal ? `the ${a.curves.length} best of ${a.curvesTotal} curves` : `${a.curves.length} curves`}
        </span>
        {pruned > 0 && (
          <span className="legend-item">
            <svg width="10" height="10" aria-hidden="true">
              <path d="M1.5,1.5l7,7m0,-7l-7,7" stroke="var(--pruned)" strokeWidth="1.8" />
            </svg>
            stopped by the pruner ({pruned})
          </span>
        )}
        {resumed > 0 && (
          <span className="legend-item">
            <svg width="10" height="10" aria-hidden="true">
              <path d="M5,1l4,7h-8z" fill="var(--paused)" />
            </svg>
            resumed after a pause ({resumed})
          </span>
        )}
      </p>
    </div>
  );
}

/** The parallel coordinates' axes: the varied fields, then the objectives. */
function axesOf(a: Analysis, rows: Row[]): PcAxis[] {
  const axes: PcAxis[] = a.parameters.map((p) => (p.kind === 'numeric' ? { key: p.key, label: p.short, kind: 'numeric', min: p.min, max: p.max, log: p.log } : { key: p.key, label: p.short, kind: 'categorical', values: p.values }));
  const ppl = rows.map((r) => r.validPpl!);
  if (ppl.length) axes.push({ key: 'validPpl', label: 'valid ppl', kind: 'numeric', min: Math.min(...ppl), max: Math.max(...ppl), log: false });
  const params = rows.map((r) => r.params).filter((p): p is number => p !== null);
  if (new Set(params).size > 1) axes.push({ key: 'params', label: 'params', kind: 'numeric', min: Math.min(...params), max: Math.max(...params), log: Math.max(...params) / Math.min(...params) > 30 });
  return axes;
}

const valuesOf = (r: Row, axes: PcAxis[], a: Analysis) => axes.map((ax) => (ax.key === 'validPpl' ? r.validPpl : ax.key === 'params' ? r.params : r.values[a.parameters.findIndex((p) => p.key === ax.key)] ?? null));

function Parallel({ a, color }: { a: Analysis; color: (r: { method: string; status: string }) => string }) {
  const [brushes, setBrushes] = useState<Record<string, Brush>>({});
  const finished = useMemo(() => a.rows.filter((r) => r.validPpl !== null && (r.status === 'succeeded' || r.status === 'pruned')), [a]);
  const axes = useMemo(() => axesOf(a, finished), [a, finished]);
  const lines: PcLine[] = finished.map((r) => ({ id: r.id, values: valuesOf(r, axes, a), color: color(r), tip: describeRow(a, r) }));
  const lineOf = new Map(lines.map((l) => [l.id, l]));
  const [sort, setSort] = useState<{ key: string; dir: 1 | -1 }>({ key: 'validPpl', dir: 1 });
  // The table's columns, each sortable: the trial, the method, every varied field, the seed, status and the metrics.
  const columns: { key: string; label: string; num: boolean; title?: string; value: (r: Row) => number | string | null }[] = [
    { key: 'ordinal', label: '#', num: true, value: (r) => r.ordinal },
    { key: 'method', label: 'Method', num: false, value: (r) => r.method },
    ...a.parameters.flatMap((p, j) => (p.key === 'method' ? [] : [{ key: `p:${p.key}`, label: p.short, num: true, title: p.key, value: (r: Row) => r.values[j] ?? null }])),
    { key: 'seed', label: 'Seed', num: true, value: (r) => r.seed },
    { key: 'status', label: 'Status', num: false, value: (r) => r.status },
    { key: 'steps', label: 'Steps', num: true, value: (r) => r.steps },
    { key: 'params', label: 'Params', num: true, value: (r) => r.params },
    { key: 'validPpl', label: 'Valid ppl', num: true, value: (r) => r.validPpl },
  ];
  const sortBy = columns.find((c) => c.key === sort.key) ?? columns[columns.length - 1]!;
  const order = (x: Row, y: Row) => {
    const [u, v] = [sortBy.value(x), sortBy.value(y)];
    if (u === v) return x.ordinal - y.ordinal;
    if (u === null) return 1; // missing values last either way
    if (v === null) return -1;
    return (typeof u === 'number' && typeof v === 'number' ? u - v : String(u).localeCompare(String(v))) * sort.dir;
  };
  const kept = finished.filter((r, i) => axes.every((ax, j) => inBrush(lines[i]!.values[j]!, brushes[ax.key]))).sort(order);
  const active = Object.entries(brushes);
  if (finished.length === 0) return null;
  return (
    <div data-testid="view-parallel">
      <h3>Parallel coordinates</h3>
      <Exportable kind="plot" name="parallel-coordinates">
        <ParallelCoordinates
          axes={axes}
          lines={finished.length <= MAX_LINES ? lines : best(finished, MAX_LINES).map((r) => lineOf.get(r.id)!)}
          brushes={brushes}
          onBrush={(key, b) =>
            setBrushes((cur) => {
              const next = { ...cur };
              if (b) next[key] = b;
              else delete next[key];
              return next;
            })
          }
        />
      </Exportable>
      <div className="pc-filter">
        <span data-testid="pc-count">
          {kept.length} of {finished.length} finished trials
        </span>
        {active.map(([k, b]) => (
          <span key={k} className="badge" data-testid="pc-brush">
            {axes.find((x) => x.key === k)?.label ?? k}: {describeBrush(b)}
          </span>
        ))}
        {active.length > 0 ? (
          <button type="button" className="btn btn-small" onClick={() => setBrushes({})} data-testid="pc-clear">
            Clear filters
          </button>
        ) : (
          <span className="muted small">drag along an axis to filter the table{finished.length > MAX_LINES ? ` · the best ${MAX_LINES.toLocaleString('en-US')} drawn` : ''}</span>
        )}
      </div>
      <Exportable kind="table" name="trials-filtered">
        <div className="table-wrap">
          <table className="table" data-testid="pc-table">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th scope="col" key={c.key} className={c.num ? 'num' : undefined} title={c.title} aria-sort={sort.key === c.key ? (sort.dir > 0 ? 'ascending' : 'descending') : undefined}>
                    <button type="button" className="th-sort" onClick={() => setSort((cur) => ({ key: c.key, dir: cur.key === c.key ? ((-cur.dir) as 1 | -1) : 1 }))} data-testid="pc-sort">
                      {c.label}
                      <span aria-hidden="true">{sort.key === c.key ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''}</span>
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {kept.slice(0, SHOWN_ROWS).map((r) => (
                <tr key={r.id} data-testid="pc-row">
                  <td className="num">
                    <Link href={`/trials/${r.id}`}>{r.ordinal}</Link>
                  </td>
                  <td>{methodLabel(r.method)}</td>
                  {a.parameters.map((p, j) =>
                    p.key === 'method' ? null : (
                      <td key={p.key} className="num">
                        {r.values[j] === null ? '—' : formatValue(r.values[j])}
                      </td>
                    ),
                  )}
                  <td className="num">{r.seed}</td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td className="num">{r.steps ?? '—'}</td>
                  <td className="num">{formatCount(r.params)}</td>
                  <td className="num">{formatPpl(r.validPpl)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Exportable>
      {kept.length > SHOWN_ROWS && <p className="muted small">the best {SHOWN_ROWS} shown</p>}
    </div>
  );
}

function Importance({ a }: { a: Analysis }) {
  const names = new Map(a.parameters.map((p) => [p.key, p.short]));
  return (
    <div data-testid="view-importance">
      <h3>Parameter importance</h3>
      {a.importance ? (
        <Exportable kind="plot" name="parameter-importance">
          <ImportanceChart items={a.importance.items.map((i) => ({ label: names.get(i.key) ?? i.key, importance: i.importance }))} method={a.importance.method} trials={a.importance.trials} />
        </Exportable>
      ) : (
        <p className="empty">Needs four succeeded trials and a field that varies.</p>
      )}
    </div>
  );
}

function Slices({ a, color }: { a: Analysis; color: (r: { method: string; status: string }) => string }) {
  const done = a.rows.filter((r) => r.status === 'succeeded' && r.validPpl !== null);
  const axes = axesOf(a, done).filter((x) => x.key !== 'validPpl' && x.key !== 'params');
  if (axes.length === 0) return null;
  return (
    <div data-testid="view-slices">
      <h3>Slice plots</h3>
      <div className="slices">
        {axes.map((ax) => {
          const j = a.parameters.findIndex((p) => p.key === ax.key);
          return (
            <Exportable key={ax.key} kind="plot" name={`slice-${ax.label}`}>
              <SlicePlot
                axis={ax}
                yLabel="valid perplexity"
                points={best(done.filter((r) => r.values[j] !== null), MAX_SLICE_POINTS).map((r) => ({ v: r.values[j]!, y: r.validPpl!, color: color(r), tip: describeRow(a, r) }))}
              />
            </Exportable>
          );
        })}
      </div>
    </div>
  );
}

/** Memoized: a sweep page re-renders every second while the sweep runs, and these views depend only on their data. */
export const Analysis = memo(function Analysis({ sweepId }: { sweepId: string }) {
  const live = useLive(`analysis:${sweepId}`, (signal) => trpc().sweeps.analysis.query({ id: sweepId, curves: 200, points: 200 }, { signal }), {
    relevant: (c) => (c.kind === 'sweep' && c.id === sweepId) || (c.kind === 'trial' && c.sweepId === sweepId && c.status !== 'running'),
  });
  const a = live.data;
  return (
    <section className="card" aria-labelledby="analysis-title" data-testid="analysis">
      <div className="card-head">
        <h2 id="analysis-title">Analysis</h2>
      </div>
      {live.error ? <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} /> : null}
      {!a ? (
        live.loading ? <Loading /> : null
      ) : a.history.length === 0 && a.curves.length === 0 ? (
        <Empty>No trial has finished or reported a validation point yet.</Empty>
      ) : (
        <AnalysisViews a={a} />
      )}
    </section>
  );
});

function AnalysisViews({ a }: { a: Analysis }) {
  const color = colorer(a);
  return (
    <>
      <div className="charts">
        <History a={a} />
        <Intermediate a={a} color={color} />
      </div>
      <Parallel a={a} color={color} />
      <div className="charts">
        <Importance a={a} />
        <Slices a={a} color={color} />
      </div>
    </>
  );
}
