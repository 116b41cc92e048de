import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_METRICS, placeLabels, type LabelRequest, type Rect } from './label-layout';

const AREA: Rect = { x0: 62, y0: 14, x1: 1180, y1: 296 };
const text = (l: { x: number; y: number; anchor: string; box: Rect }, w: number): Rect => {
  const x0 = l.anchor === 'start' ? l.x : l.anchor === 'end' ? l.x - w : l.x - w / 2;
  return { x0, x1: x0 + w, y0: l.y - DEFAULT_METRICS.ascent, y1: l.y + DEFAULT_METRICS.descent };
};
const hits = (a: Rect, b: Rect) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

describe('placeLabels', () => {
  it('puts a label right of its point when there is room, and left of it at the right edge', () => {
    const [a, b] = placeLabels(
      [
        { key: 'a', x: 100, y: 100, r: 5, width: 80 },
        { key: 'b', x: 1170, y: 200, r: 5, width: 80 },
      ],
      AREA,
    );
    expect(a).toMatchObject({ key: 'a', anchor: 'start', x: 109 });
    expect(b).toMatchObject({ key: 'b', anchor: 'end', x: 1161 });
  });

  it('never lets a label leave the plot: near the left edge a long label goes right, one wider than the plot is left out', () => {
    const placed = placeLabels(
      [
        { key: 'edge', x: 64, y: 150, r: 5, width: 600 },
        { key: 'huge', x: 600, y: 150, r: 5, width: 2000 },
      ],
      AREA,
    );
    expect(placed.map((l) => [l.key, l.anchor])).toEqual([['edge', 'start']]);
  });

  it('two points side by side (equal parameter counts) get labels that do not overlap, or none', () => {
    const pts: LabelRequest[] = [
      { key: 'svd', x: 400, y: 150, r: 5, width: 90 },
      { key: 'groupreduce', x: 410, y: 150, r: 5, width: 120 },
    ];
    const placed = placeLabels(pts, AREA);
    expect(placed).toHaveLength(2);
    expect(hits(text(placed[0]!, 90), text(placed[1]!, 120))).toBe(false);
  });

  it('for any points: placed labels lie inside the plot, apart from each other and off every point', () => {
    const point = fc.record({ x: fc.double({ min: AREA.x0, max: AREA.x1, noNaN: true }), y: fc.double({ min: AREA.y0, max: AREA.y1, noNaN: true }), r: fc.constantFrom(4.5, 5.5), width: fc.double({ min: 5, max: 700, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 14 }), (raw) => {
        const pts = raw.map((p, i) => ({ ...p, key: String(i) }));
        const placed = placeLabels(pts, AREA);
        const boxes = placed.map((l) => text(l, pts[Number(l.key)]!.width));
        for (const b of boxes) expect(b.x0 >= AREA.x0 && b.x1 <= AREA.x1 && b.y0 >= AREA.y0 && b.y1 <= AREA.y1).toBe(true);
        for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) expect(hits(boxes[i]!, boxes[j]!)).toBe(false);
        for (const b of boxes) for (const p of pts) expect(hits(b, { x0: p.x - p.r, x1: p.x + p.r, y0: p.y - p.r, y1: p.y + p.r })).toBe(false);
        expect(new Set(placed.map((l) => l.key)).size).toBe(placed.length);
        // The first point, alone in the plot's middle, always gets a label.
        if (pts.length === 1 && pts[0]!.width < 300 && pts[0]!.x > 400 && pts[0]!.x < 800) expect(placed).toHaveLength(1);
      }),
      { numRuns: 300 },
    );
  });
});
