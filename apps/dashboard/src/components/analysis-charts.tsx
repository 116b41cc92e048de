'use client';
// The analysis views' own charts, drawn as SVG like charts.tsx: parallel coordinates with a brush
// per axis, parameter importance as bars, and slice plots (the objective against one parameter).
import { useRef, useState, type PointerEvent } from 'react';
import { formatTick } from '../lib/format';
import { linearScale, logScale, type Scale } from '../lib/scale';
import { textWidth } from '../lib/text-width';
import { M, Plot, tickText, Unmeasured, useWidth } from './charts';
import { DENSE, DotLayer } from './dots';

/** An axis of the parallel coordinates: a parameter or an objective. */
export type PcAxis =
  | { key: string; label: string; kind: 'numeric'; min: number; max: number; log: boolean }
  | { key: string; label: string; kind: 'categorical'; values: string[] };

export interface PcLine {
  id: string;
  /** One per axis; null where the trial has no value (drawn to the axis's foot). */
  values: (number | string | null)[];
  color: string;
  tip: string;
}

/** A brushed range of an axis, in its values: [lo, hi] for a numeric axis, the categories kept for a categorical one. */
export type Brush = { kind: 'range'; lo: number; hi: number } | { kind: 'set'; values: string[] };

export function inBrush(v: number | string | null, b: Brush | undefined): boolean {
  if (!b) return true;
  if (v === null) return false;
  return b.kind === 'range' ? typeof v === 'number' && v >= b.lo && v <= b.hi : b.values.includes(String(v));
}

const PC = { top: 30, bottom: 26, side: 56 };

/** The paths of many lines: those brushed out as one grey path, those kept as one per colour. */
function batchLines(lines: PcLine[], kept: (l: PcLine) => boolean, path: (l: PcLine) => string): { key: string; color: string; kept: boolean; count: number; d: string }[] {
  const groups = new Map<string, { key: string; color: string; kept: boolean; count: number; d: string[] }>();
  for (const l of lines) {
    const k = kept(l);
    const key = k ? `in${l.color}` : 'out';
    const g = groups.get(key) ?? groups.set(key, { key, color: k ? l.color : '#cbd5e1', kept: k, count: 0, d: [] }).get(key)!;
    g.count++;
    g.d.push(path(l));
  }
  return [...groups.values()].map((g) => ({ ...g, d: g.d.join('') }));
}

/** A tick of a log axis: 0.01, 0.2, 5, 300, 20k. */
const logTick = (v: number) => (v >= 1e4 ? formatTick(v) : String(+v.toPrecision(3)));

/** A vertical scale of one axis (top is high values, like every other plot), and where a value sits on it. */
function axisScale(a: PcAxis, y0: number, y1: number): { at: (v: number | string | null) => number; scale: Scale | null } {
  if (a.kind === 'categorical') {
    const n = a.values.length;
    return { at: (v) => (v === null ? y0 : n <= 1 ? (y0 + y1) / 2 : y0 - ((y0 - y1) * a.values.indexOf(String(v))) / (n - 1)), scale: null };
  }
  const lo = a.min;
  const hi = a.max > a.min ? a.max : a.min + (Math.abs(a.min) || 1);
  const s = a.log && lo > 0 ? logScale(lo, hi, [y0, y1]) : linearScale(lo, hi, [y0, y1], 5);
  return { at: (v) => (typeof v === 'number' && Number.isFinite(v) ? s(v) : y0), scale: s };
}

/**
 * One polyline per trial across the axes. Dragging along an axis brushes it (a second drag
 * replaces the brush, a click clears it); lines outside any brush turn grey, and onBrush says what
 * is kept. Brushing works by keyboard too: each axis is a slider-like control (arrow keys move the
 * brush a tenth of the axis, Escape clears it).
 */
export function ParallelCoordinates({ axes, lines, brushes, onBrush, height = 300 }: { axes: PcAxis[]; lines: PcLine[]; brushes: Record<string, Brush>; onBrush: (key: string, b: Brush | null) => void; height?: number }) {
  const [ref, W] = useWidth();
  const [drag, setDrag] = useState<{ key: string; from: number; to: number } | null>(null);
  const svg = useRef<SVGSVGElement | null>(null);
  if (W === null) return <Unmeasured measure={ref} height={height} />;
  const [y0, y1] = [height - PC.bottom, PC.top];
  const xs = axes.map((_, i) => (axes.length <= 1 ? W / 2 : PC.side + ((W - 2 * PC.side) * i) / (axes.length - 1)));
  const scales = axes.map((a) => axisScale(a, y0, y1));
  const localY = (e: PointerEvent) => {
    const r = svg.current!.getBoundingClientRect();
    return Math.max(y1, Math.min(y0, e.clientY - r.top));
  };
  /** The brush of the pixel span [a, b] on axis i. */
  const brushOf = (i: number, a: number, b: number): Brush | null => {
    const ax = axes[i]!;
    const [top, bottom] = [Math.min(a, b), Math.max(a, b)];
    if (bottom - top < 3) return null;
    if (ax.kind === 'categorical') {
      const kept = ax.values.filter((v) => {
        const p = scales[i]!.at(v);
        return p >= top - 4 && p <= bottom + 4;
      });
      return { kind: 'set', values: kept };
    }
    const s = scales[i]!.scale!;
    return { kind: 'range', lo: s.invert(bottom), hi: s.invert(top) };
  };
  /** The pixel span a brush covers on axis i. */
  const spanOf = (i: number, b: Brush): [number, number] => {
    if (b.kind === 'range') {
      const s = scales[i]!.scale!;
      return [s(b.hi), s(b.lo)].map((p) => Math.max(y1, Math.min(y0, p))) as [number, number];
    }
    const ps = b.values.map((v) => scales[i]!.at(v));
    return ps.length ? [Math.min(...ps) - 6, Math.max(...ps) + 6] : [y0, y0];
  };
  const keptIds = new Set(lines.filter((l) => axes.every((a, i) => inBrush(l.values[i]!, brushes[a.key]))).map((l) => l.id));
  const kept = (l: PcLine) => keptIds.has(l.id);
  const path = (l: PcLine) => l.values.map((v, i) => `${i ? 'L' : 'M'}${xs[i]!.toFixed(1)},${scales[i]!.at(v).toFixed(1)}`).join('');
  const label = `Parallel coordinates of ${axes.map((a) => a.label).join(', ')} over ${lines.length} trials; drag along an axis to filter`;
  const ordered = [...lines.filter((l) => !kept(l)), ...lines.filter(kept)];
  return (
    <figure className="chart" ref={ref} data-testid="parallel-chart">
      <svg ref={svg} className="plot" width={W} height={height} viewBox={`0 0 ${W} ${height}`} role="img" aria-label={label}>
        <title>{label}</title>
        {lines.length > DENSE
          ? // Batched: the lines brushed out in one path, those kept in one per colour (no tooltip each).
            batchLines(ordered, kept, path).map((g) => <path key={g.key} d={g.d} fill="none" stroke={g.color} strokeOpacity={g.kept ? 0.6 : 0.5} strokeWidth={g.kept ? 1.2 : 1} data-testid={g.kept ? 'pc-lines' : 'pc-lines-out'} data-count={g.count} />)
          : ordered.map((l) => (
              <path key={l.id} d={path(l)} fill="none" stroke={kept(l) ? l.color : '#cbd5e1'} strokeOpacity={kept(l) ? 0.75 : 0.5} strokeWidth={kept(l) ? 1.4 : 1} data-testid={kept(l) ? 'pc-line' : 'pc-line-out'}>
                <title>{l.tip}</title>
              </path>
            ))}
        {axes.map((a, i) => {
          const x = xs[i]!;
          const sc = scales[i]!;
          const b = brushes[a.key];
          const live: [number, number] | null = drag?.key === a.key ? [Math.min(drag.from, drag.to), Math.max(drag.from, drag.to)] : b ? spanOf(i, b) : null;
          const ticks = a.kind === 'categorical' ? a.values.map((v) => ({ v, p: sc.at(v), t: v })) : sc.scale!.ticks.map((t) => ({ v: t, p: sc.scale!(t), t: a.log ? logTick(t) : tickText(t, (sc.scale!.ticks[1] ?? 1) - (sc.scale!.ticks[0] ?? 0)) }));
          const anchor = i === 0 ? 'start' : i === axes.length - 1 ? 'end' : 'middle';
          return (
            <g key={a.key} data-testid="pc-axis" data-key={a.key}>
              <line x1={x} x2={x} y1={y0} y2={y1} className="axis" />
              {ticks.map((t) => (
                <text key={String(t.v)} x={x - 6} y={t.p} dy="0.32em" textAnchor="end" className="tick pc-tick">
                  {t.t.length > 14 ? `${t.t.slice(0, 13)}…` : t.t}
                </text>
              ))}
              <text x={i === 0 ? x - 6 : i === axes.length - 1 ? x + 6 : x} y={PC.top - 12} textAnchor={anchor} className="axis-label">
                {a.label}
              </text>
              {live && <rect x={x - 7} y={live[0]} width={14} height={Math.max(2, live[1] - live[0])} className="pc-brush" />}
              <rect
                x={x - 14}
                y={y1}
                width={28}
                height={y0 - y1}
                fill="transparent"
                style={{ cursor: 'ns-resize', touchAction: 'none' }}
                tabIndex={0}
                role="slider"
                aria-label={`brush ${a.label}`}
                aria-valuetext={b ? describeBrush(b) : 'all'}
                data-testid="pc-brush-handle"
                onPointerDown={(e) => {
                  (e.target as Element).setPointerCapture(e.pointerId);
                  const p = localY(e);
                  setDrag({ key: a.key, from: p, to: p });
                }}
                onPointerMove={(e) => drag?.key === a.key && setDrag({ ...drag, to: localY(e) })}
                onPointerUp={() => {
                  if (drag?.key !== a.key) return;
                  onBrush(a.key, brushOf(i, drag.from, drag.to));
                  setDrag(null);
                }}
                onKeyDown={(e) => {
                  if (e.key === 'Escape') return onBrush(a.key, null);
                  if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
                  e.preventDefault();
                  const [top, bottom] = b ? spanOf(i, b) : [y1, y1 + (y0 - y1) / 3];
                  const d = ((y0 - y1) / 10) * (e.key === 'ArrowUp' ? -1 : 1);
                  const h = bottom - top;
                  const nt = Math.max(y1, Math.min(y0 - h, top + d));
                  onBrush(a.key, brushOf(i, nt, nt + h));
                }}
              />
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export function describeBrush(b: Brush): string {
  return b.kind === 'range' ? `${+b.lo.toPrecision(4)} – ${+b.hi.toPrecision(4)}` : b.values.join(', ') || 'none';
}

/** Horizontal bars, one per parameter, longest first, with the method named in the title. */
export function ImportanceChart({ items, method, trials }: { items: { label: string; importance: number }[]; method: string; trials: number }) {
  const [ref, W] = useWidth();
  const labelW = Math.min(220, Math.max(80, ...items.map((i) => textWidth(i.label) + 12)));
  const row = 26;
  const height = 30 + row * items.length + 20;
  if (W === null) return <Unmeasured measure={ref} height={height} />;
  const x0 = labelW;
  const x1 = W - 56;
  const title = `Parameter importance (${method}, ${trials} trials): ${items.map((i) => `${i.label} ${(100 * i.importance).toFixed(0)}%`).join(', ')}`;
  return (
    <figure className="chart" ref={ref} data-testid="importance-chart">
      <Plot width={W} height={height} label={title}>
        <text x={0} y={14} className="tick">
          share of the variation in valid perplexity · {method}
        </text>
        {items.map((it, i) => {
          const y = 30 + i * row;
          const w = Math.max(1, (x1 - x0) * it.importance);
          return (
            <g key={it.label} data-testid="importance-bar" data-importance={it.importance}>
              <text x={x0 - 8} y={y + row / 2 - 2} dy="0.32em" textAnchor="end" className="tick">
                {it.label}
              </text>
              <rect x={x0} y={y + 3} width={w} height={row - 10} rx={2} fill="var(--accent)" />
              <text x={x0 + w + 6} y={y + row / 2 - 2} dy="0.32em" className="tick">
                {(100 * it.importance).toFixed(1)}%
              </text>
            </g>
          );
        })}
      </Plot>
    </figure>
  );
}

/** The objective against one parameter: a point per trial (categories side by side, jittered). */
export function SlicePlot({ axis, points, yLabel, height = 200 }: { axis: PcAxis; points: { v: number | string; y: number; color: string; tip: string }[]; yLabel: string; height?: number }) {
  const [ref, W] = useWidth();
  const ok = points.filter((p) => Number.isFinite(p.y) && (axis.kind === 'categorical' || (typeof p.v === 'number' && Number.isFinite(p.v))));
  if (ok.length === 0) {
    return (
      <div ref={ref}>
        <p className="empty">No finished trials.</p>
      </div>
    );
  }
  if (W === null) return <Unmeasured measure={ref} height={height} />;
  const m = { ...M, left: 56, right: 12, bottom: 40 };
  const ys = ok.map((p) => p.y);
  const y = linearScale(Math.min(...ys), Math.max(...ys), [height - m.bottom, m.top], 4);
  const yStep = (y.ticks[1] ?? 1) - (y.ticks[0] ?? 0);
  let x: (v: number | string, i: number) => number;
  let ticks: { p: number; t: string }[];
  if (axis.kind === 'categorical') {
    const n = axis.values.length;
    const band = (W - m.left - m.right) / Math.max(1, n);
    x = (v, i) => m.left + band * (axis.values.indexOf(String(v)) + 0.5) + (((i * 7919) % 13) / 13 - 0.5) * band * 0.4;
    ticks = axis.values.map((v, i) => ({ p: m.left + band * (i + 0.5), t: v.length > 16 ? `${v.slice(0, 15)}…` : v }));
  } else {
    const hi = axis.max > axis.min ? axis.max : axis.min + (Math.abs(axis.min) || 1);
    const s = axis.log && axis.min > 0 ? logScale(axis.min, hi, [m.left, W - m.right]) : linearScale(axis.min, hi, [m.left, W - m.right], Math.max(3, Math.round(W / 110)));
    x = (v) => s(v as number);
    const step = (s.ticks[1] ?? 1) - (s.ticks[0] ?? 0);
    ticks = s.ticks.map((t) => ({ p: s(t), t: axis.log ? logTick(t) : tickText(t, step) }));
  }
  const label = `Slice plot: ${yLabel} against ${axis.label}, ${ok.length} trials`;
  return (
    <figure className="chart" ref={ref} data-testid="slice-chart">
      <Plot width={W} height={height} label={label}>
        {y.ticks.map((t) => (
          <g key={`y${t}`}>
            <line x1={m.left} x2={W - m.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={m.left - 6} y={y(t)} dy="0.32em" textAnchor="end" className="tick">
              {tickText(t, yStep)}
            </text>
          </g>
        ))}
        {ticks.map((t) => (
          <text key={`x${t.p}`} x={t.p} y={height - m.bottom + 16} textAnchor="middle" className="tick">
            {t.t}
          </text>
        ))}
        <line x1={m.left} x2={W - m.right} y1={height - m.bottom} y2={height - m.bottom} className="axis" />
        <text x={(m.left + W - m.right) / 2} y={height - 4} textAnchor="middle" className="axis-label">
          {axis.label}
        </text>
        {ok.length > DENSE ? (
          <DotLayer dots={ok.map((p, i) => ({ x: x(p.v, i), y: y(p.y), r: 3, color: p.color, tip: p.tip.split(' · ').join('\n') }))} area={{ x0: m.left, y0: m.top, x1: W - m.right, y1: height - m.bottom }} opacity={0.75} />
        ) : (
          ok.map((p, i) => (
            <circle key={i} cx={x(p.v, i)} cy={y(p.y)} r={3} fill={p.color} fillOpacity={0.75}>
              <title>{p.tip}</title>
            </circle>
          ))
        )}
      </Plot>
    </figure>
  );
}
