// `lmsweep bench dashboard [--trials N] [--reference N] [--json]`: the dashboard's pages and plots
// in Chromium over a database of N finished trials (10 seeds per configuration, sweeps of at most
// 10,000 trials; their results written in bulk, as trained trials would leave them), beside a
// reference of 1,000 trials in the same run. For each view, the API response that feeds it (its
// size and when it ended) and the moment its figure or table is in the page, seen by a
// MutationObserver installed before the page loads: the render time after its data arrived.
import { performance } from 'node:perf_hooks';
import type { Browser } from 'playwright-core';
import { MAX_TRIALS_PER_SWEEP } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { startCoordinator, type Coordinator } from '@lmsweep/coordinator';
import { finishGridInBulk } from '@lmsweep/db/testing';
import { table } from '../format.ts';
import { parseOptions } from '../options.ts';
import type { BenchContext } from '../bench.ts';
import { DASHBOARD_BENCH } from './options.ts';

const SEEDS = 10;
const TARGET_MS = 1_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A view: the page it is on, the element that shows it, the procedure whose answer feeds it. */
interface View {
  name: string;
  page: 'sweep' | 'leaderboard';
  selector: string;
  procedure: string;
}

const VIEWS: View[] = [
  { name: 'sweep: trials table', page: 'sweep', selector: '[data-testid="trials-table"]', procedure: 'trials.list' },
  { name: 'sweep: optimization history', page: 'sweep', selector: '[data-testid="history-chart"] svg', procedure: 'sweeps.analysis' },
  { name: 'sweep: intermediate values', page: 'sweep', selector: '[data-testid="intermediate-chart"] svg', procedure: 'sweeps.analysis' },
  { name: 'sweep: parallel coordinates', page: 'sweep', selector: '[data-testid="parallel-chart"] svg', procedure: 'sweeps.analysis' },
  { name: 'sweep: parameter importance', page: 'sweep', selector: '[data-testid="importance-chart"] svg', procedure: 'sweeps.analysis' },
  { name: 'sweep: slice plots', page: 'sweep', selector: '[data-testid="slice-chart"] svg', procedure: 'sweeps.analysis' },
  { name: 'sweep: Pareto front', page: 'sweep', selector: '[data-testid="pareto-chart"] svg', procedure: 'leaderboard.page' },
  { name: 'leaderboard (all sweeps): table', page: 'leaderboard', selector: '[data-testid="leaderboard-table"]', procedure: 'leaderboard.page' },
  { name: 'leaderboard (all sweeps): Pareto front', page: 'leaderboard', selector: '[data-testid="pareto-chart"] svg', procedure: 'leaderboard.page' },
];

export interface DashboardRow {
  view: string;
  trials: number;
  configurations: number;
  /** Trials on the page's sweep (the sweep page) or in all (the leaderboard). */
  shown: number;
  dataKiB: number;
  /** From navigation start to the end of the view's API response. */
  dataMs: number;
  /** From the end of that response to the view in the page. */
  renderMs: number;
}

/** Finished sweeps of `trials` trials in all: a grid of learning rates × widths, 10 seeds each, results written in bulk. */
async function fill(c: Coordinator, trials: number): Promise<{ sweepIds: string[]; configurations: number }> {
  const sweepIds: string[] = [];
  let configurations = 0;
  for (let left = trials, i = 0; left > 0; left -= MAX_TRIALS_PER_SWEEP, i++) {
    const n = Math.min(MAX_TRIALS_PER_SWEEP, left);
    const configs = Math.max(1, Math.floor(n / SEEDS));
    const widths = [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096].slice(0, Math.min(10, configs));
    const lrs = Array.from({ length: Math.ceil(configs / widths.length) }, (_, k) => Number((10 ** (-4 + (3 * k) / Math.max(1, Math.ceil(configs / widths.length) - 1))).toPrecision(4)));
    const spec = parseSweepSpec({ name: `bench-dashboard-${i}`, dataset: { name: 'ptb', vocabSize: 300 }, budget: { maxSteps: 500, evalEvery: 100 }, grid: { 'model.hidden': widths, 'training.lr': [...new Set(lrs)] }, seeds: SEEDS });
    const plans = expandSweep(spec).slice(0, n);
    const sweep = await c.store.createSweep({ name: spec.name, spec, specText: '', plans });
    sweepIds.push(sweep.id);
    configurations += new Set(plans.map((p) => JSON.stringify(p.config))).size;
    await finishGridInBulk(c.store, sweep.id);
  }
  return { sweepIds, configurations };
}

async function measure(browser: Browser, url: string, view: View): Promise<{ dataMs: number; renderMs: number; bytes: number }> {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  try {
    // A string, not a function: the page gets it as written (no helpers a bundler adds to functions).
    await page.addInitScript(`{
      const selector = ${JSON.stringify(view.selector)};
      const look = () => { if (window.__seenAt === undefined && document.querySelector(selector)) window.__seenAt = performance.now(); };
      new MutationObserver(look).observe(document, { childList: true, subtree: true });
    }`);
    let bytes = 0;
    page.on('response', (r) => {
      if (r.url().includes(view.procedure)) void r.body().then((b) => (bytes = Math.max(bytes, b.length)), () => {});
    });
    await page.goto(url);
    await page.waitForSelector(view.selector, { timeout: 120_000 });
    // The data it shows: the last answer of its procedure before it appeared (a live page may ask again later).
    const t = (await page.evaluate(`(() => {
      const seen = window.__seenAt;
      const ends = performance.getEntriesByType('resource').filter((e) => e.name.includes(${JSON.stringify(view.procedure)})).map((e) => e.responseEnd).filter((e) => e <= seen);
      return { seen, end: ends.length ? Math.max(...ends) : NaN };
    })()`)) as { seen: number; end: number };
    return { dataMs: t.end, renderMs: Math.max(0, t.seen - t.end), bytes };
  } finally {
    await page.close();
  }
}

export interface MarksRow {
  marks: number;
  kind: 'points' | 'polylines';
  svgMs: number;
  /** The same marks as one SVG path. */
  pathMs: number;
  canvasMs: number;
}

/**
 * The charting question: N marks drawn as SVG elements (how charts.tsx draws a plot of a few
 * hundred), as one SVG path (how dots.tsx batches a dense one) and on a 2D canvas (how uPlot and
 * ECharts' default renderer draw), each timed in the page from the start of drawing to the frame
 * after it was painted.
 */
async function marks(browser: Browser, counts: number[]): Promise<MarksRow[]> {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  try {
    await page.setContent('<html><body style="margin:0"><div id="box"></div></body></html>');
    const rows: MarksRow[] = [];
    for (const n of counts) {
      for (const kind of ['points', 'polylines'] as const) {
        const t = (await page.evaluate(`(async () => {
          const n = ${n}, lines = ${kind === 'polylines'}, W = 1200, H = 400, box = document.getElementById('box');
          let seed = 1; const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
          const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          box.innerHTML = ''; await frame();
          let t0 = performance.now();
          const NS = 'http://www.w3.org/2000/svg', svg = document.createElementNS(NS, 'svg');
          svg.setAttribute('width', W); svg.setAttribute('height', H);
          for (let i = 0; i < n; i++) {
            if (lines) { const p = document.createElementNS(NS, 'path'); let d = 'M0,' + (rnd() * H); for (let k = 1; k < 6; k++) d += 'L' + (k * W / 5) + ',' + (rnd() * H); p.setAttribute('d', d); p.setAttribute('fill', 'none'); p.setAttribute('stroke', '#2563eb'); svg.appendChild(p); }
            else { const c = document.createElementNS(NS, 'circle'); c.setAttribute('cx', rnd() * W); c.setAttribute('cy', rnd() * H); c.setAttribute('r', 3); c.setAttribute('fill', '#2563eb'); svg.appendChild(c); }
          }
          box.appendChild(svg); await frame();
          const svgMs = performance.now() - t0;
          box.innerHTML = ''; await frame();
          // One SVG path for all of them, a subpath each (how dots.tsx batches a dense plot).
          t0 = performance.now();
          const one = document.createElementNS(NS, 'svg'); one.setAttribute('width', W); one.setAttribute('height', H);
          const parts = [];
          for (let i = 0; i < n; i++) {
            if (lines) { let d = 'M0,' + (rnd() * H); for (let k = 1; k < 6; k++) d += 'L' + (k * W / 5) + ',' + (rnd() * H); parts.push(d); }
            else { const x = rnd() * W, y = rnd() * H; parts.push('M' + (x - 3) + ',' + y + 'a3,3 0 1,0 6,0a3,3 0 1,0 -6,0'); }
          }
          const path = document.createElementNS(NS, 'path'); path.setAttribute('d', parts.join(''));
          path.setAttribute('fill', lines ? 'none' : '#2563eb'); if (lines) path.setAttribute('stroke', '#2563eb');
          one.appendChild(path); box.appendChild(one); await frame();
          const pathMs = performance.now() - t0;
          box.innerHTML = ''; await frame();
          t0 = performance.now();
          const cv = document.createElement('canvas'); cv.width = W; cv.height = H; box.appendChild(cv);
          const g = cv.getContext('2d'); g.fillStyle = g.strokeStyle = '#2563eb';
          // One path per colour, as uPlot batches a series.
          g.beginPath();
          for (let i = 0; i < n; i++) {
            if (lines) { g.moveTo(0, rnd() * H); for (let k = 1; k < 6; k++) g.lineTo(k * W / 5, rnd() * H); }
            else { const x = rnd() * W, y = rnd() * H; g.moveTo(x + 3, y); g.arc(x, y, 3, 0, 2 * Math.PI); }
          }
          if (lines) g.stroke(); else g.fill();
          await frame();
          return { svgMs, pathMs, canvasMs: performance.now() - t0 };
        })()`)) as { svgMs: number; pathMs: number; canvasMs: number };
        rows.push({ marks: n, kind, svgMs: Math.round(t.svgMs), pathMs: Math.round(t.pathMs), canvasMs: Math.round(t.canvasMs) });
      }
    }
    return rows;
  } finally {
    await page.close();
  }
}

async function run(browser: Browser, trials: number, repeat: number, say: (s: string) => void): Promise<DashboardRow[]> {
  const c = await startCoordinator({ port: 0, databaseUrl: 'memory://' });
  try {
    const t0 = performance.now();
    const { sweepIds, configurations } = await fill(c, trials);
    say(`${trials.toLocaleString('en-US')} trials (${configurations.toLocaleString('en-US')} configurations, ${sweepIds.length} sweeps) written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const { startDashboard } = await import('@lmsweep/dashboard/build');
    const dash = await startDashboard({ port: 0, coordinatorUrl: c.url });
    try {
      const rows: DashboardRow[] = [];
      const first = sweepIds[0]!;
      const shownOnSweep = (await c.store.getSweep(first))!.counts.total;
      for (const v of VIEWS) {
        const url = v.page === 'sweep' ? `${dash.url}/sweeps/${encodeURIComponent(first)}` : `${dash.url}/leaderboard`;
        const ms: Awaited<ReturnType<typeof measure>>[] = [];
        for (let k = 0; k < repeat; k++) ms.push(await measure(browser, url, v));
        const med = (f: (m: (typeof ms)[number]) => number) => median(ms.map(f));
        rows.push({ view: v.name, trials, configurations, shown: v.page === 'sweep' ? shownOnSweep : trials, dataKiB: Math.round(med((m) => m.bytes) / 1024), dataMs: Math.round(med((m) => m.dataMs)), renderMs: Math.round(med((m) => m.renderMs)) });
      }
      return rows;
    } finally {
      await dash.close();
    }
  } finally {
    await c.close();
  }
}

export async function benchDashboard(ctx: BenchContext): Promise<void> {
  const { values } = parseOptions({ options: DASHBOARD_BENCH.options }, ctx.args);
  const say = (s: string) => !ctx.json && ctx.out(s);
  const { ensureDashboardBuilt } = await import('@lmsweep/dashboard/build');
  await ensureDashboardBuilt();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
  try {
    const ref = await run(browser, values.reference, values.repeat, say);
    const big = await run(browser, values.trials, values.repeat, say);
    const drawn = await marks(browser, [1_000, 10_000, 100_000]);
    if (ctx.json) {
      big.forEach((r, i) => ctx.out(JSON.stringify({ bench: 'dashboard', ...r, reference: ref[i], ratio: ref[i]!.renderMs > 0 ? r.renderMs / ref[i]!.renderMs : null, met: r.renderMs <= TARGET_MS })));
      for (const m of drawn) ctx.out(JSON.stringify({ bench: 'dashboard-marks', ...m, ratio: m.canvasMs > 0 ? m.svgMs / m.canvasMs : null, pathRatio: m.canvasMs > 0 ? m.pathMs / m.canvasMs : null }));
      return;
    }
    const head = ['view', 'shown', 'data KiB', 'data ms', 'render ms', `ref (${values.reference.toLocaleString('en-US')}) render ms`, 'ratio', `≤ ${TARGET_MS} ms`];
    const rows = big.map((r, i) => {
      const f = ref[i]!;
      return [r.view, r.shown.toLocaleString('en-US'), String(r.dataKiB), String(r.dataMs), String(r.renderMs), String(f.renderMs), f.renderMs > 0 ? `${(r.renderMs / f.renderMs).toFixed(1)}×` : '—', r.renderMs <= TARGET_MS ? 'met' : 'NOT met'];
    });
    ctx.out(table(head, rows, { align: ['left'] }));
    ctx.out(`render ms: from the end of the view's API response to its figure or table in the page (Chromium, 1920×1080); data ms: navigation to that response's end; each the median of ${values.repeat} page loads.`);
    ctx.out('');
    const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}×` : '—');
    const mh = ['marks', 'kind', 'SVG elements ms', 'one SVG path ms', 'canvas 2D ms', 'elements / canvas', 'path / canvas'];
    const mrows = drawn.map((m) => [m.marks.toLocaleString('en-US'), m.kind, String(m.svgMs), String(m.pathMs), String(m.canvasMs), ratio(m.svgMs, m.canvasMs), ratio(m.pathMs, m.canvasMs)]);
    ctx.out(table(mh, mrows, { align: [undefined, 'left'] }));
    ctx.out('marks: N circles or 6-point polylines drawn as SVG elements (a plot of a few hundred), as one SVG path (a dense plot, dots.tsx) and on a 2D canvas (uPlot\'s and ECharts\' default renderer), to the painted frame.');
  } finally {
    await browser.close();
  }
}
