'use client';
// Thousands of points on one plot: drawn as one SVG path per colour and style (a circle per
// subpath) instead of an element each, which paints about as fast as a canvas and stays SVG for
// the export; the point under the pointer is found in a grid index, named in a tooltip, and
// opened on a click. Plots with fewer points keep an element per point (a title, a focus stop).
import { useMemo, useState, type MouseEvent } from 'react';
import { indexPoints, nearest } from '../lib/nearest';
import { textWidth } from '../lib/text-width';

/** Plots with more points than this draw them batched. */
export const DENSE = 500;

export interface Dot {
  x: number;
  y: number;
  r: number;
  color: string;
  /** A ring on the card's colour (a Pareto plot's dominated points) instead of a filled disc. */
  hollow?: boolean;
  /** A vertical interval through the point (its 95% CI), caps where it ends inside the plot. */
  bar?: { top: number; bottom: number; capTop: boolean; capBottom: boolean };
  /** What the tooltip says, one line per "\n". */
  tip: string;
}

interface Area {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const f = (v: number) => v.toFixed(1);

/** The path data of each colour and style: bars, then discs or rings. */
function batch(dots: Dot[]): { key: string; color: string; kind: 'bar' | 'disc' | 'ring'; d: string }[] {
  const out = new Map<string, { key: string; color: string; kind: 'bar' | 'disc' | 'ring'; d: string[] }>();
  const add = (kind: 'bar' | 'disc' | 'ring', color: string, d: string) => {
    const key = `${kind}${color}`;
    const g = out.get(key);
    if (g) g.d.push(d);
    else out.set(key, { key, color, kind, d: [d] });
  };
  for (const p of dots) {
    if (p.bar) {
      const b = p.bar;
      add('bar', p.color, `M${f(p.x)},${f(b.top)}V${f(b.bottom)}${b.capTop ? `M${f(p.x - 4)},${f(b.top)}h8` : ''}${b.capBottom ? `M${f(p.x - 4)},${f(b.bottom)}h8` : ''}`);
    }
    add(p.hollow ? 'ring' : 'disc', p.color, `M${f(p.x - p.r)},${f(p.y)}a${p.r},${p.r} 0 1,0 ${2 * p.r},0a${p.r},${p.r} 0 1,0 ${-2 * p.r},0`);
  }
  return [...out.values()].sort((a, b) => (a.kind === 'bar' ? 0 : 1) - (b.kind === 'bar' ? 0 : 1)).map((g) => ({ ...g, d: g.d.join('') }));
}

/** The tooltip: the lines of a point's tip in a box beside it, kept inside the plot. */
function Tip({ dot, area }: { dot: Dot; area: Area }) {
  const lines = dot.tip.split('\n');
  const w = Math.max(...lines.map(textWidth)) + 14;
  const h = lines.length * 15 + 8;
  const x = dot.x + 12 + w > area.x1 ? dot.x - 12 - w : dot.x + 12;
  const y = Math.max(area.y0, Math.min(area.y1 - h, dot.y - h / 2));
  return (
    <g className="dot-tip" pointerEvents="none" data-testid="dot-tip">
      <circle cx={dot.x} cy={dot.y} r={dot.r + 3} fill="none" stroke={dot.color} strokeWidth={2} />
      <rect x={x} y={y} width={w} height={h} rx={4} className="dot-tip-box" />
      <text x={x + 7} y={y + 15} className="tick">
        {lines.map((l, i) => (
          <tspan key={i} x={x + 7} dy={i ? 15 : 0}>
            {l}
          </tspan>
        ))}
      </text>
    </g>
  );
}

/** Points drawn batched over `area`, with a tooltip for the one under the pointer and `onOpen` on a click. */
export function DotLayer({ dots, area, opacity, onOpen }: { dots: Dot[]; area: Area; opacity?: number; onOpen?: (i: number) => void }) {
  const paths = useMemo(() => batch(dots), [dots]);
  const index = useMemo(() => indexPoints(dots, 16), [dots]);
  const [hover, setHover] = useState<number | null>(null);
  const under = (e: MouseEvent<SVGRectElement>) => {
    const r = e.currentTarget.ownerSVGElement!.getBoundingClientRect();
    return nearest(index, e.clientX - r.left, e.clientY - r.top, 12);
  };
  const shown = hover !== null ? dots[hover] : undefined;
  return (
    <g data-testid="dot-layer" data-count={dots.length}>
      {paths.map((g) =>
        g.kind === 'bar' ? (
          <path key={g.key} d={g.d} fill="none" stroke={g.color} strokeWidth={1.4} strokeOpacity={opacity} />
        ) : (
          <path key={g.key} d={g.d} fill={g.kind === 'ring' ? 'var(--card)' : g.color} fillOpacity={g.kind === 'disc' ? opacity : undefined} stroke={g.kind === 'ring' ? g.color : 'none'} strokeWidth={2} />
        ),
      )}
      <rect
        x={area.x0 - 12}
        y={area.y0 - 12}
        width={Math.max(0, area.x1 - area.x0 + 24)}
        height={Math.max(0, area.y1 - area.y0 + 24)}
        fill="transparent"
        style={{ cursor: onOpen && hover !== null ? 'pointer' : undefined }}
        data-testid="dot-hover"
        onPointerMove={(e) => setHover(under(e))}
        onPointerLeave={() => setHover(null)}
        onClick={(e) => {
          const i = under(e);
          if (i !== null) onOpen?.(i);
        }}
      />
      {shown && <Tip dot={shown} area={area} />}
    </g>
  );
}
