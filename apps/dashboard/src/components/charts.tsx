'use client';
// Hand-drawn SVG charts: a line chart (training curves) and the leaderboard's Pareto scatter.
// Each SVG is drawn at the pixel width of its container (measured), so text keeps its size.
import { useEffect, useState, type KeyboardEvent, type ReactNode } from 'react';
import { methodLabel } from '@lmsweep/protocol/methods';
import { formatCount, formatPpl, formatPplCI, formatRatio, formatTick } from '../lib/format';
import { placeLabels, type PlacedLabel } from '../lib/label-layout';
import { linearScale, logScale, type Scale } from '../lib/scale';
import { textWidth } from '../lib/text-width';
import { DENSE, DotLayer, type Dot } from './dots';

export const PALETTE = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];

export const M = { top: 14, right: 20, bottom: 44, left: 62 };

/**
 * The content width of a container, following resizes; null until it is first measured (a chart
 * draws nothing before, rather than everything twice). A callback ref: the chart swaps its
 * container (the unmeasured box, an empty note, then the figure) and the new one is observed.
 * The width comes from the observer, which reports after layout: reading clientWidth instead
 * forces a layout of the whole page, most of a second per chart once a page holds 10,000 marks.
 */
export function useWidth(): [(el: HTMLElement | null) => void, number | null] {
  const [el, setEl] = useState<HTMLElement | null>(null);
  const [w, setW] = useState<number | null>(null);
  useEffect(() => {
    if (!el) return;
    const ro = new ResizeObserver((entries) => {
      const box = entries[entries.length - 1];
      if (box) setW(Math.max(320, Math.floor(box.contentRect.width)));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [el]);
  return [setEl, w];
}

/** The box a chart measures before it draws: as wide as the figure will be, as high. */
export function Unmeasured({ measure, height }: { measure: (el: HTMLElement | null) => void; height: number }) {
  return <figure className="chart" ref={measure} style={{ height }} aria-hidden="true" />;
}

export function Plot({ width: W, height, label, children }: { width: number; height: number; label: string; children: ReactNode }) {
  return (
    <svg className="plot" width={W} height={height} viewBox={`0 0 ${W} ${height}`} role="img" aria-label={label}>
      <title>{label}</title>
      {children}
    </svg>
  );
}

export function tickText(v: number, step: number): string {
  if (Math.abs(v) >= 1e4) return formatTick(v);
  const decimals = step >= 1 ? 0 : Math.min(4, Math.ceil(-Math.log10(step)));
  return v.toFixed(decimals);
}

function Axes({ x, y, w: W, h, xLabel, yLabel, xFormat, yFormat }: { x: Scale; y: Scale; w: number; h: number; xLabel: string; yLabel: string; xFormat: (v: number) => string; yFormat: (v: number) => string }) {
  const [x0, x1] = [M.left, W - M.right];
  const [y0, y1] = [h - M.bottom, M.top];
  return (
    <g className="axes">
      {y.ticks.map((t) => (
        <g key={`y${t}`}>
          <line x1={x0} x2={x1} y1={y(t)} y2={y(t)} className="grid" />
          <text x={x0 - 8} y={y(t)} dy="0.32em" textAnchor="end" className="tick">
            {yFormat(t)}
          </text>
        </g>
      ))}
      {x.ticks.map((t) => (
        <g key={`x${t}`}>
          <line x1={x(t)} x2={x(t)} y1={y0} y2={y1} className="grid" />
          <text x={x(t)} y={y0 + 16} textAnchor="middle" className="tick">
            {xFormat(t)}
          </text>
        </g>
      ))}
      <line x1={x0} x2={x1} y1={y0} y2={y0} className="axis" />
      <line x1={x0} x2={x0} y1={y0} y2={y1} className="axis" />
      <text x={(x0 + x1) / 2} y={h - 6} textAnchor="middle" className="axis-label">
        {xLabel}
      </text>
      <text transform={`translate(14 ${(y0 + y1) / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">
        {yLabel}
      </text>
    </g>
  );
}

export interface Series {
  label: string;
  color: string;
  points: { x: number; y: number }[];
  /** Points only, no line through them (e.g. every trial beside a best-so-far line). */
  dots?: boolean;
  /** Where the line starts, drawn without a dot (a resumed attempt continuing the curve of the one it resumed from). */
  lead?: { x: number; y: number };
  /** One of many: a thin translucent line without dots (every trial's curve on one plot). */
  faint?: boolean;
  /** Symbols on the line: where it was stopped (a violet ×) or resumed after a pause (an amber triangle). */
  marks?: { x: number; y: number; kind: 'stopped' | 'resumed' }[];
}

/** A dashed vertical line at x across the plot, labelled at its top (where a trial paused, resumed or was stopped). */
export interface Marker {
  x: number;
  label: string;
  /** paused: amber (a pause, and the resume from it); pruned: violet (where it was stopped). */
  kind: 'paused' | 'pruned';
}

/** Marker labels placed in rows under the plot's top edge, so labels of nearby markers never overlap; flipped to the line's left near the right edge. */
function placeMarkers(markers: Marker[], at: (x: number) => number, right: number): { m: Marker; px: number; row: number; anchor: 'start' | 'end' }[] {
  const rows: { from: number; to: number }[][] = [];
  return [...markers]
    .sort((a, b) => a.x - b.x)
    .map((m) => {
      const px = at(m.x);
      const w = textWidth(m.label) + 4;
      const anchor: 'start' | 'end' = px + 4 + w > right ? 'end' : 'start';
      const [from, to] = anchor === 'start' ? [px, px + 4 + w] : [px - 4 - w, px];
      let row = rows.findIndex((r) => r.every((b) => to < b.from || from > b.to));
      if (row < 0) row = rows.push([]) - 1;
      rows[row]!.push({ from, to });
      return { m, px, row, anchor };
    });
}

/** Lines over a shared x axis; non-finite y values break the line. `markers`: dashed vertical lines (pauses, resumes, a stop). */
export function LineChart({ series, xLabel, yLabel, yLog = false, height = 260, title, testId, markers = [], legend = true }: { series: Series[]; xLabel: string; yLabel: string; yLog?: boolean; height?: number; title: string; testId?: string; markers?: Marker[]; legend?: boolean }) {
  const [ref, W] = useWidth();
  const pts = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!yLog || p.y > 0));
  if (pts.length === 0) {
    return (
      <div ref={ref}>
        <p className="empty">No finite {yLabel} values yet.</p>
      </div>
    );
  }
  if (W === null) return <Unmeasured measure={ref} height={height} />;
  const xs = [...pts.map((p) => p.x), ...markers.map((m) => m.x).filter(Number.isFinite)];
  const ys = pts.map((p) => p.y);
  // Steps start at 0: a curve with one point still reads as "at step N".
  const x = linearScale(Math.min(0, ...xs), Math.max(...xs), [M.left, W - M.right], Math.max(3, Math.round(W / 110)));
  const yRange: [number, number] = [height - M.bottom, M.top];
  const y = yLog ? logScale(Math.min(...ys), Math.max(...ys), yRange) : linearScale(Math.min(...ys), Math.max(...ys), yRange, 5);
  const xStep = (x.ticks[1] ?? 1) - (x.ticks[0] ?? 0);
  const yStep = yLog ? 1 : (y.ticks[1] ?? 1) - (y.ticks[0] ?? 0);
  const yFmt = (v: number) => (yLog ? (v >= 1e4 ? formatTick(v) : String(+v.toPrecision(3))) : tickText(v, yStep));
  return (
    <figure className="chart" ref={ref} data-testid={testId}>
      <Plot width={W} height={height} label={title}>
        <Axes x={x} y={y} w={W} h={height} xLabel={xLabel} yLabel={yLabel} xFormat={(v) => tickText(v, xStep)} yFormat={yFmt} />
        {placeMarkers(markers.filter((m) => Number.isFinite(m.x)), x, W - M.right).map(({ m, px, row, anchor }) => (
          <g key={`${m.kind}-${m.x}-${m.label}`} data-testid="curve-marker" data-step={m.x}>
            <line x1={px} x2={px} y1={height - M.bottom} y2={M.top} className={`marker ${m.kind}`} />
            <text x={anchor === 'start' ? px + 4 : px - 4} y={M.top + 10 + row * 14} textAnchor={anchor} className="marker-label">
              {m.label}
            </text>
          </g>
        ))}
        {series.map((s) => {
          const segs: string[] = [];
          let cur = '';
          for (const p of [...(s.lead ? [s.lead] : []), ...[...s.points].sort((a, b) => a.x - b.x)]) {
            if (!Number.isFinite(p.y) || (yLog && p.y <= 0)) {
              if (cur) segs.push(cur);
              cur = '';
              continue;
            }
            cur += `${cur ? 'L' : 'M'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`;
          }
          if (cur) segs.push(cur);
          const finite = s.points.filter((p) => Number.isFinite(p.y) && (!yLog || p.y > 0));
          return (
            <g key={s.label} opacity={s.faint ? 0.55 : undefined}>
              {s.faint && <title>{s.label}</title>}
              {!s.dots &&
                segs.map((d, i) => <path key={i} d={d} fill="none" stroke={s.color} strokeWidth={s.faint ? 1.1 : 1.8} strokeLinejoin="round" />)}
              {(s.marks ?? [])
                .filter((m) => Number.isFinite(m.y) && (!yLog || m.y > 0))
                .map((m, i) =>
                  m.kind === 'stopped' ? (
                    <path key={`m${i}`} d={`M${x(m.x) - 3.5},${y(m.y) - 3.5}l7,7m0,-7l-7,7`} stroke="var(--pruned)" strokeWidth={1.8} data-testid="mark-stopped" />
                  ) : (
                    <path key={`m${i}`} d={`M${x(m.x)},${y(m.y) - 4.5}l4,7h-8z`} fill="var(--paused)" data-testid="mark-resumed" />
                  ),
                )}
              {s.dots && finite.length > DENSE && (
                <DotLayer dots={finite.map((p) => ({ x: x(p.x), y: y(p.y), r: 2, color: s.color, tip: `${s.label}\n${xLabel} ${p.x}: ${yLabel} ${+p.y.toPrecision(5)}` }))} area={{ x0: M.left, y0: M.top, x1: W - M.right, y1: height - M.bottom }} />
              )}
              {!s.faint &&
                finite.length <= (s.dots ? DENSE : 400) &&
                finite.map((p, i) => (
                  <circle key={i} cx={x(p.x)} cy={y(p.y)} r={finite.length <= 40 ? 2.6 : 1.6} fill={s.color}>
                    <title>{`${s.label} — ${xLabel} ${p.x}: ${yLabel} ${+p.y.toPrecision(5)}`}</title>
                  </circle>
                ))}
            </g>
          );
        })}
      </Plot>
      {legend && series.length > 0 && (
        <figcaption className="legend">
          {series.map((s) => (
            <span key={s.label} className="legend-item">
              <span className={s.dots ? 'swatch round' : 'swatch'} style={{ background: s.color }} />
              {s.label}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}

export interface ScatterPoint {
  key: string;
  /** Its place in the ranking (0: first), which a click opens. */
  rank?: number;
  label: string;
  method: string;
  params: number;
  mean: number;
  lo: number;
  hi: number;
  halfWidth: number;
  seeds: number;
  paretoRank: number;
  compression: number | null;
  isBaseline: boolean;
}

/** Parameters (log x) against validation perplexity with CI bars; the Pareto front as a step line. */
export function ParetoScatter({ points, methodColor, height = 340, onOpen }: { points: ScatterPoint[]; methodColor: (m: string) => string; height?: number; onOpen?: (rank: number) => void }) {
  const [ref, W] = useWidth();
  const ok = points.filter((p) => p.params > 0 && Number.isFinite(p.mean));
  if (ok.length === 0) {
    return (
      <div ref={ref}>
        <p className="empty">No finished configurations to plot yet.</p>
      </div>
    );
  }
  if (W === null) return <Unmeasured measure={ref} height={height} />;
  // The y range follows the means; wide intervals (two seeds make t = 12.7) may extend it by
  // one span of the means either way, never below 0, and are cut off (no cap) beyond.
  const means = ok.map((p) => p.mean);
  const [mLo, mHi] = [Math.min(...means), Math.max(...means)];
  const span = Math.max(mHi - mLo, 0.05 * Math.abs(mHi));
  const yLo = Math.max(0, mLo - span, Math.min(...ok.map((p) => (Number.isFinite(p.lo) ? p.lo : p.mean))));
  const yHi = Math.min(mHi + span, Math.max(...ok.map((p) => (Number.isFinite(p.hi) ? p.hi : p.mean))));
  const xs = logScale(Math.min(...ok.map((p) => p.params)), Math.max(...ok.map((p) => p.params)), [M.left, W - M.right]);
  const y = linearScale(yLo, yHi, [height - M.bottom, M.top], 5);
  // Configurations with equal parameter counts (e.g. a learning-rate grid) sit side by side.
  const dodge = new Map<string, number>();
  const byParams = new Map<number, ScatterPoint[]>();
  for (const p of ok) {
    const g = byParams.get(p.params);
    if (g) g.push(p);
    else byParams.set(p.params, [p]);
  }
  // 10 px apart, squeezed into ±60 px for large groups (thousands of configurations of one size)
  for (const group of byParams.values()) group.forEach((p, i) => dodge.set(p.key, (i - (group.length - 1) / 2) * Math.min(10, 120 / group.length)));
  const x = (v: number, key?: string) => xs(v) + (key ? (dodge.get(key) ?? 0) : 0);
  const yStep = (y.ticks[1] ?? 1) - (y.ticks[0] ?? 0);
  const clampY = (v: number) => Math.max(M.top, Math.min(height - M.bottom, y(v)));
  const inside = (v: number) => y(v) >= M.top && y(v) <= height - M.bottom;
  const hasBar = (p: ScatterPoint) => Number.isFinite(p.halfWidth) && p.halfWidth > 0 && Number.isFinite(p.lo) && Number.isFinite(p.hi);
  const tipOf = (p: ScatterPoint) =>
    [
      p.label,
      `method ${methodLabel(p.method)}`,
      `params ${formatCount(p.params)}${p.compression !== null ? ` (${formatRatio(p.compression)} vs baseline)` : ''}`,
      `valid ppl ${formatPplCI(p.mean, p.halfWidth)}${hasBar(p) ? ` [${formatPpl(p.lo)}, ${formatPpl(p.hi)}]` : ''}`,
      `${p.seeds} seed${p.seeds === 1 ? '' : 's'}`,
      p.paretoRank === 0 ? 'on the Pareto front' : `Pareto rank ${p.paretoRank}`,
      p.isBaseline ? 'baseline' : '',
    ]
      .filter(Boolean)
      .join('\n');
  // A crowded plot draws its dominated points batched (dots.tsx); the front and the baselines
  // keep an element each, a focus stop that opens their row.
  const dense = ok.length > DENSE;
  const single = dense ? ok.filter((p) => p.paretoRank === 0 || p.isBaseline) : ok;
  const batched = dense ? ok.filter((p) => p.paretoRank !== 0 && !p.isBaseline) : [];
  const dots: Dot[] = batched.map((p) => ({
    x: x(p.params, p.key),
    y: y(p.mean),
    r: 4.5,
    color: methodColor(p.method),
    hollow: true,
    ...(hasBar(p) ? { bar: { top: clampY(p.hi), bottom: clampY(p.lo), capTop: inside(p.hi), capBottom: inside(p.lo) } } : {}),
    tip: tipOf(p),
  }));
  const front = ok.filter((p) => p.paretoRank === 0).sort((a, b) => a.params - b.params);
  let step = '';
  front.forEach((p, i) => {
    const px = x(p.params, p.key).toFixed(1);
    const py = y(p.mean).toFixed(1);
    if (i === 0) step = `M${px},${py}`;
    else step += `H${px}V${py}`;
  });
  const methods = [...new Set(ok.map((p) => p.method))];
  // Name points on the plot where a label fits inside it, clear of the other labels and points:
  // up to 12 points, front points first; of a crowded plot, the front's only. The rest say who
  // they are on hover.
  const labelAt = new Map<string, PlacedLabel>();
  const candidates = ok.length <= 12 ? ok : front.length <= 12 ? front : [];
  if (candidates.length) {
    const order = [...candidates].sort((a, b) => a.paretoRank - b.paretoRank || a.mean - b.mean);
    const area = { x0: M.left, y0: M.top, x1: W - M.right, y1: height - M.bottom };
    const requests = order.map((p) => ({
      key: p.key,
      x: x(p.params, p.key),
      y: y(p.mean),
      // (the baseline's dashed ring is its mark's edge)
      r: p.isBaseline ? 9.5 : p.paretoRank === 0 ? 5.5 : 4.5,
      width: textWidth(p.label),
      ...(hasBar(p) ? { top: clampY(p.hi), bottom: clampY(p.lo) } : {}),
    }));
    // The error bars and the front's steps, which a label should not cross.
    const lines = ok.filter(hasBar).map((p) => ({ x0: x(p.params, p.key) - 1.5, x1: x(p.params, p.key) + 1.5, y0: clampY(p.hi), y1: clampY(p.lo) }));
    front.forEach((p, i) => {
      const next = front[i + 1];
      if (!next) return;
      const [x0, x1, y0, y1] = [x(p.params, p.key), x(next.params, next.key), y(p.mean), y(next.mean)];
      lines.push({ x0, x1, y0: y0 - 1, y1: y0 + 1 }, { x0: x1 - 1, x1: x1 + 1, y0: Math.min(y0, y1), y1: Math.max(y0, y1) });
    });
    for (const l of placeLabels(requests, area, lines)) labelAt.set(l.key, l);
  }
  return (
    <figure className="chart" data-testid="pareto-chart" ref={ref}>
      <Plot width={W} height={height} label="Pareto front: validation perplexity against parameter count, 95% intervals over seeds; hover a point for its configuration, click it to open its row">
        <Axes
          x={xs}
          y={y}
          w={W}
          h={height}
          xLabel="parameters (log scale)"
          yLabel="valid perplexity"
          xFormat={(v) => formatTick(v)}
          yFormat={(v) => tickText(v, yStep)}
        />
        <rect data-testid="plot-area" x={M.left} y={M.top} width={Math.max(0, W - M.left - M.right)} height={height - M.top - M.bottom} fill="none" />
        {front.length > 1 && <path d={step} className="front-line" />}
        {dense && <DotLayer dots={dots} area={{ x0: M.left, y0: M.top, x1: W - M.right, y1: height - M.bottom }} onOpen={onOpen ? (i) => batched[i]!.rank !== undefined && onOpen(batched[i]!.rank!) : undefined} />}
        {single.map((p) => {
          const cx = x(p.params, p.key);
          const cy = y(p.mean);
          const c = methodColor(p.method);
          const bar = hasBar(p);
          const tip = tipOf(p);
          return (
            <g
              key={p.key}
              className={onOpen && p.rank !== undefined ? 'pt pt-open' : 'pt'}
              data-testid="pareto-point"
              {...(onOpen && p.rank !== undefined
                ? { onClick: () => onOpen(p.rank!), onKeyDown: (e: KeyboardEvent) => (e.key === 'Enter' || e.key === ' ') && onOpen(p.rank!), tabIndex: 0, role: 'button', 'aria-label': `open ${p.label}` }
                : {})}
            >
              <title>{tip}</title>
              {bar && (
                <g stroke={c} strokeWidth={1.4}>
                  <line x1={cx} x2={cx} y1={clampY(p.lo)} y2={clampY(p.hi)} />
                  {inside(p.lo) && <line x1={cx - 4} x2={cx + 4} y1={y(p.lo)} y2={y(p.lo)} />}
                  {inside(p.hi) && <line x1={cx - 4} x2={cx + 4} y1={y(p.hi)} y2={y(p.hi)} />}
                </g>
              )}
              <circle cx={cx} cy={cy} r={p.paretoRank === 0 ? 5.5 : 4.5} fill={p.paretoRank === 0 ? c : '#fff'} stroke={c} strokeWidth={2} />
              {p.isBaseline && <circle cx={cx} cy={cy} r={9} fill="none" stroke="#334155" strokeWidth={1.2} strokeDasharray="2 2" />}
              {labelAt.has(p.key) && (
                <text x={labelAt.get(p.key)!.x} y={labelAt.get(p.key)!.y} className="pt-label" textAnchor={labelAt.get(p.key)!.anchor}>
                  {p.label}
                </text>
              )}
              <circle cx={cx} cy={cy} r={12} fill="transparent" />
            </g>
          );
        })}
      </Plot>
      <figcaption className="legend">
        {methods.map((m) => (
          <span key={m} className="legend-item">
            <span className="swatch round" style={{ background: methodColor(m) }} />
            {methodLabel(m)}
          </span>
        ))}
        <span className="legend-item">
          <svg width="26" height="10" aria-hidden="true">
            <path d="M1,2H13V8H25" className="front-line" />
          </svg>
          Pareto front (filled)
        </span>
        <span className="legend-item">
          <svg width="14" height="14" aria-hidden="true">
            <line x1="7" x2="7" y1="1" y2="13" stroke="#64748b" strokeWidth="1.4" />
          </svg>
          95% CI over seeds
        </span>
        {ok.some((p) => p.isBaseline) && (
          <span className="legend-item">
            <svg width="16" height="16" aria-hidden="true">
              <circle cx="8" cy="8" r="6.5" fill="none" stroke="#334155" strokeWidth="1.2" strokeDasharray="2 2" />
            </svg>
            baseline
          </span>
        )}
      </figcaption>
    </figure>
  );
}
