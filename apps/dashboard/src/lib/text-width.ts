// A label's width in pixels as the browser will draw it, for laying labels out before drawing.

/** The font of point labels and ticks (.chart .pt-label in globals.css). */
const LABEL_FONT = "11.5px system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', 'DejaVu Sans', Arial, sans-serif";
let measureCtx: CanvasRenderingContext2D | null | undefined;

/** Measured on a canvas; a generous estimate where there is none (the server). */
export function textWidth(s: string): number {
  if (measureCtx === undefined) measureCtx = typeof document === 'undefined' ? null : document.createElement('canvas').getContext('2d');
  if (!measureCtx) return s.length * 7.5;
  measureCtx.font = LABEL_FONT;
  return Math.ceil(measureCtx.measureText(s).width) + 1;
}
