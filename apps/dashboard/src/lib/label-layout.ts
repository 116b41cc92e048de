// Where to write a scatter plot's point labels: beside their point, inside the plot, never on
// top of another label or another point; a label that has no such place is left out (its point
// names it on hover). Pure geometry, in SVG pixels.

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface LabelRequest {
  key: string;
  /** The point's centre and radius. */
  x: number;
  y: number;
  r: number;
  /** The label's text width. */
  width: number;
  /** How far the point's mark reaches up and down (an error bar), when beyond its circle. */
  top?: number;
  bottom?: number;
}

export interface PlacedLabel {
  key: string;
  /** Where the text goes: x at its anchor, y at its baseline. */
  x: number;
  y: number;
  anchor: 'start' | 'middle' | 'end';
  /** The box the text was given (with its margin). */
  box: Rect;
}

export interface LabelMetrics {
  /** Text extent above and below the baseline. */
  ascent: number;
  descent: number;
  /** Space kept around every label's text (its white halo included), inside the plot and between labels. */
  margin: number;
}

/**
 * For the dashboard's 11.5 px sans-serif labels: the ascent and descent Chromium reports for
 * DejaVu Sans at that size (11 and 3), rounded up; the 3 px halo stroke reaches up to 3 px out.
 */
export const DEFAULT_METRICS: LabelMetrics = { ascent: 11, descent: 3.5, margin: 3.5 };

const hits = (a: Rect, b: Rect) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
const within = (a: Rect, outer: Rect) => a.x0 >= outer.x0 && a.x1 <= outer.x1 && a.y0 >= outer.y0 && a.y1 <= outer.y1;

/**
 * Labels for `points`, in their order of priority (the first gets the best place). Each one tries,
 * in turn: right of its point, left, then above its mark (beyond its error bar) to the right,
 * left and centred, below it likewise, then the same a line further out; it takes the first place that lies inside
 * `area` (with its margin) and clear of every label placed so far, of every point, and of the
 * `obstacles` (lines the text should not cross: error bars, the Pareto front).
 */
export function placeLabels(points: LabelRequest[], area: Rect, obstacles: Rect[] = [], m: LabelMetrics = DEFAULT_METRICS): PlacedLabel[] {
  const lineH = m.ascent + m.descent;
  const dots: Rect[] = points.map((p) => ({ x0: p.x - p.r - 1, y0: p.y - p.r - 1, x1: p.x + p.r + 1, y1: p.y + p.r + 1 }));
  const placed: PlacedLabel[] = [];
  points.forEach((p, i) => {
    const gap = p.r + 4;
    const mid = p.y + (m.ascent - m.descent) / 2; // a baseline that centres the text on the point
    const top = Math.min(p.top ?? p.y, p.y - p.r);
    const bottom = Math.max(p.bottom ?? p.y, p.y + p.r);
    const above = (n: number) => top - 4 - m.descent - n * lineH;
    const below = (n: number) => bottom + 4 + m.ascent + n * lineH;
    const tries: [number, number, PlacedLabel['anchor']][] = [
      [p.x + gap, mid, 'start'],
      [p.x - gap, mid, 'end'],
    ];
    for (const n of [0, 1]) {
      tries.push([p.x + 2, above(n), 'start'], [p.x - 2, above(n), 'end'], [p.x, above(n), 'middle'], [p.x + 2, below(n), 'start'], [p.x - 2, below(n), 'end'], [p.x, below(n), 'middle']);
    }
    for (const [x, y, anchor] of tries) {
      const left = anchor === 'start' ? x : anchor === 'end' ? x - p.width : x - p.width / 2;
      const text: Rect = { x0: left, y0: y - m.ascent, x1: left + p.width, y1: y + m.descent };
      const box: Rect = { x0: text.x0 - m.margin, y0: text.y0 - m.margin, x1: text.x1 + m.margin, y1: text.y1 + m.margin };
      if (!within(box, area)) continue;
      if (placed.some((l) => hits(l.box, box))) continue;
      if (dots.some((d, j) => j !== i && hits(d, box)) || hits(dots[i]!, text)) continue;
      if (obstacles.some((o) => hits(o, text))) continue;
      placed.push({ key: p.key, x, y, anchor, box });
      return;
    }
  });
  return placed;
}
