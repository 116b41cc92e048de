'use client';
// /compare: 2–8 configurations of one sweep (sweeps.compare) — what differs in their configs,
// each one's perplexity with its 95% interval over seeds, each against the first paired by seed
// (the difference's interval, its p and Holm's), and every trial's validation curve overlaid.
import Link from 'next/link';
import { useEffect } from 'react';
import { formatCount, formatPpl, shortId } from '../lib/format';
import { useLive } from '../lib/live';
import { describeError, trpc, type RouterOutputs } from '../lib/trpc';
import { Empty, ErrorBanner, Loading } from './bits';
import { Exportable } from './Exportable';
import { LineChart, M, PALETTE, Plot, tickText, Unmeasured, useWidth, type Series } from './charts';
import { linearScale } from '../lib/scale';

type Result = RouterOutputs['sweeps']['compare'];
type Iv = Result['configs'][number]['validPpl'];

const colorOf = (i: number) => PALETTE[i % PALETTE.length]!;

function formatInterval(iv: Iv): string {
  if (iv.mean === null) return '—';
  return iv.lo !== null && iv.hi !== null ? `${formatPpl(iv.mean)} [${formatPpl(iv.lo)}, ${formatPpl(iv.hi)}]` : formatPpl(iv.mean);
}

function formatDelta(iv: Iv): string {
  if (iv.mean === null) return '—';
  const sign = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(2)}`;
  return iv.lo !== null && iv.hi !== null ? `${sign(iv.mean)} [${sign(iv.lo)}, ${sign(iv.hi)}]` : sign(iv.mean);
}

const formatP = (p: number | null) => (p === null ? '—' : p < 0.001 ? p.toExponential(1) : p.toFixed(3));

/** The paired differences as intervals around zero, one row per comparison. */
function DifferencePlot({ c }: { c: Result }) {
  const [ref, W] = useWidth();
  const rows = c.paired.filter((p) => p.valid.mean !== null);
  if (rows.length === 0) return <div ref={ref} />;
  const vals = rows.flatMap((p) => [p.valid.mean!, p.valid.lo ?? p.valid.mean!, p.valid.hi ?? p.valid.mean!, 0]);
  const row = 40;
  const labelW = 12;
  const height = M.top + row * rows.length + 40;
  if (W === null) return <Unmeasured measure={ref} height={height} />;
  const x = linearScale(Math.min(...vals), Math.max(...vals), [M.left + labelW, W - M.right], 6);
  const step = (x.ticks[1] ?? 1) - (x.ticks[0] ?? 0);
  const title = `Paired difference in validation perplexity against ${c.configs[0]!.label}, 95% intervals over shared seeds: ${rows.map((p) => `${c.configs[p.config]!.label} ${formatDelta(p.valid)}`).join('; ')}`;
  return (
    <figure className="chart" ref={ref} data-testid="difference-chart">
      <Plot width={W} height={height} label={title}>
        {x.ticks.map((t) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={M.top} y2={height - 40} className="grid" />
            <text x={x(t)} y={height - 24} textAnchor="middle" className="tick">
              {tickText(t, step)}
            </text>
          </g>
        ))}
        <line x1={x(0)} x2={x(0)} y1={M.top - 4} y2={height - 40} className="axis" strokeDasharray="3 3" />
        <text x={(M.left + W - M.right) / 2} y={height - 6} textAnchor="middle" className="axis-label">
          Δ valid perplexity against {c.configs[0]!.label} (negative: better)
        </text>
        {rows.map((p, i) => {
          const y = M.top + row * i + row / 2 + 6;
          const color = colorOf(p.config);
          return (
            <g key={p.config} data-testid="difference-row">
              <title>{`${c.configs[p.config]!.label}: ${formatDelta(p.valid)} over ${p.seeds.length} seed${p.seeds.length === 1 ? '' : 's'}`}</title>
              {p.valid.lo !== null && p.valid.hi !== null && <line x1={x(p.valid.lo)} x2={x(p.valid.hi)} y1={y} y2={y} stroke={color} strokeWidth={2} />}
              <circle cx={x(p.valid.mean!)} cy={y} r={5} fill={color} />
              <text x={M.left + labelW} y={y - 9} className="tick">
                {c.configs[p.config]!.label}
              </text>
            </g>
          );
        })}
      </Plot>
    </figure>
  );
}

function CompareView({ c }: { c: Result }) {
  const series: Series[] = c.configs.flatMap((cfg, i) =>
    cfg.trials
      .filter((t) => t.curve.length > 0)
      .map((t) => ({ label: `${cfg.label} · seed ${t.seed}`, color: colorOf(i), faint: true, points: t.curve.map(([x, y]) => ({ x, y: y ?? Number.NaN })) })),
  );
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => Number.isFinite(y) && y > 0);
  const yLog = ys.length > 1 && Math.max(...ys) / Math.min(...ys) > 3;
  const first = c.configs[0]!;
  return (
    <>
      <section className="card" aria-labelledby="diff-title">
        <h2 id="diff-title">What differs</h2>
        <Exportable kind="table" name="compare-configs">
          <div className="table-wrap">
            <table className="table" data-testid="compare-diff">
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  {c.configs.map((cfg, i) => (
                    <th scope="col" key={cfg.configKey}>
                      <span className="swatch round" style={{ background: colorOf(i) }} aria-hidden="true" /> {cfg.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {c.fields.map((f, j) => (
                  <tr key={f} data-testid="compare-field">
                    <td className="mono">{f}</td>
                    {c.configs.map((cfg) => (
                      <td key={cfg.configKey} className="mono">
                        {cfg.values[j]}
                      </td>
                    ))}
                  </tr>
                ))}
                <tr>
                  <td>params</td>
                  {c.configs.map((cfg) => (
                    <td key={cfg.configKey}>{formatCount(cfg.params)}</td>
                  ))}
                </tr>
                <tr>
                  <td>valid ppl (95% CI, n)</td>
                  {c.configs.map((cfg) => (
                    <td key={cfg.configKey} data-testid="compare-valid">
                      {formatInterval(cfg.validPpl)} <span className="muted">n={cfg.validPpl.n}</span>
                    </td>
                  ))}
                </tr>
                <tr>
                  <td>test ppl (95% CI, n)</td>
                  {c.configs.map((cfg) => (
                    <td key={cfg.configKey}>
                      {formatInterval(cfg.testPpl)} <span className="muted">n={cfg.testPpl.n}</span>
                    </td>
                  ))}
                </tr>
                <tr>
                  <td>trials</td>
                  {c.configs.map((cfg) => (
                    <td key={cfg.configKey}>
                      {cfg.trials.map((t, k) => (
                        <span key={t.id}>
                          {k > 0 && ', '}
                          <Link href={`/trials/${t.id}`} title={`${t.status}, seed ${t.seed}`}>
                            seed {t.seed}
                          </Link>
                        </span>
                      ))}
                    </td>
                  ))}
                </tr>
              </tbody>
            </table>
          </div>
        </Exportable>
      </section>
      <section className="card" aria-labelledby="paired-title">
        <h2 id="paired-title">Paired by seed, against {first.label}</h2>
        <p className="muted small">
          Δ is each configuration&apos;s perplexity minus {first.label}&apos;s, seed by seed over the seeds both succeeded on, with the 95% Student-t interval of the mean
          difference; p is the paired t-test&apos;s (two-sided), Holm-corrected over the {c.paired.length} comparison{c.paired.length === 1 ? '' : 's'}. One shared seed gives no interval.
        </p>
        <Exportable kind="table" name="compare-paired">
          <div className="table-wrap">
            <table className="table" data-testid="compare-paired">
              <thead>
                <tr>
                  <th scope="col">Configuration</th>
                  <th scope="col" className="num">Shared seeds</th>
                  <th scope="col" className="num">Δ valid ppl [95% CI]</th>
                  <th scope="col" className="num">p (Holm)</th>
                  <th scope="col" className="num">Δ test ppl [95% CI]</th>
                  <th scope="col" className="num">p (Holm)</th>
                </tr>
              </thead>
              <tbody>
                {c.paired.map((p) => (
                  <tr key={p.config} data-testid="compare-pair">
                    <td>
                      <span className="swatch round" style={{ background: colorOf(p.config) }} aria-hidden="true" /> {c.configs[p.config]!.label}
                    </td>
                    <td className="num">{p.seeds.length}</td>
                    <td className="num" data-testid="pair-valid">
                      {formatDelta(p.valid)}
                    </td>
                    <td className="num">
                      {formatP(p.valid.p)} ({formatP(p.valid.pHolm)})
                    </td>
                    <td className="num">{formatDelta(p.test)}</td>
                    <td className="num">
                      {formatP(p.test.p)} ({formatP(p.test.pHolm)})
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Exportable>
        <Exportable kind="plot" name="compare-differences">
          <DifferencePlot c={c} />
        </Exportable>
      </section>
      <section className="card" aria-labelledby="curves-title">
        <h2 id="curves-title">Validation curves</h2>
        <Exportable kind="plot" name="compare-curves">
          <LineChart series={series} xLabel="step" yLabel="valid perplexity" yLog={yLog} legend={false} title={`Validation curves of ${series.length} trials of ${c.configs.length} configurations`} testId="compare-curves" />
        </Exportable>
        <p className="legend">
          {c.configs.map((cfg, i) => (
            <span key={cfg.configKey} className="legend-item">
              <span className="swatch" style={{ background: colorOf(i) }} />
              {cfg.label}
            </span>
          ))}
        </p>
      </section>
    </>
  );
}

export function Compare({ sweepId, configKeys }: { sweepId: string; configKeys: string[] }) {
  const live = useLive(`compare:${sweepId}:${configKeys.join(',')}`, (signal) => trpc().sweeps.compare.query({ id: sweepId, configKeys }, { signal }), {
    relevant: (c) => c.kind === 'trial' && c.sweepId === sweepId && c.status !== 'running',
  });
  useEffect(() => {
    document.title = 'Compare · lmsweep';
  }, []);
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link href="/">Sweeps</Link> / <Link href={`/sweeps/${encodeURIComponent(sweepId)}`}>{shortId(sweepId)}</Link> /{' '}
        <Link href={`/leaderboard?sweep=${encodeURIComponent(sweepId)}`}>Leaderboard</Link> / Compare
      </nav>
      {live.error ? (
        <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} />
      ) : !live.data ? (
        live.loading ? <Loading /> : <Empty>Nothing to compare.</Empty>
      ) : (
        <CompareView c={live.data} />
      )}
    </>
  );
}
