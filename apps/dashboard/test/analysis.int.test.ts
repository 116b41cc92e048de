// A sweep's analysis views in a real browser: a coordinator (PGlite in memory) holding a grid of
// widths × learning rates with two seeds, trained through the store's own writes (metrics,
// completions, two trials stopped by the pruner, one paused, promoted, resumed and finished),
// the built dashboard under `next start`, Chromium. The sweep page and the leaderboard show the
// five named views (each figure's aria-label starts with its name) and a slice per parameter;
// dragging along a parallel-coordinates axis filters the table under it; a click on a Pareto
// point opens its row. Screenshots at 1280×800 and 1920×1080 land in test-output/analysis-*.png,
// with nothing overflowing its card.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pauseTrialAt, promoteTrial, stopTrialAt } from '@lmsweep/db/testing';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { startCoordinator } from '../../coordinator/src/server.ts';
import { ensureDashboardBuilt, startDashboard, type RunningDashboard } from '../build.ts';
import { launchChromium, openPage } from './browser.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT = path.join(REPO_ROOT, 'test-output');
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
];
const HIDDEN = [8, 16, 32];
const LRS = [0.01, 0.1, 1];
const SPEC = {
  name: 'browser-analysis',
  dataset: { name: 'ptb', vocabSize: 300 },
  model: { embedding: 8, layers: 1 },
  budget: { maxSteps: 600, evalEvery: 100 },
  grid: { 'model.hidden': HIDDEN, 'training.lr': LRS },
  seeds: 2,
};

type Coordinator = Awaited<ReturnType<typeof startCoordinator>>;
let coordinator: Coordinator | undefined;
let dashboard: RunningDashboard | undefined;
let browser: Browser | undefined;
const pageErrors: string[] = [];
let sweepId = '';

/** Perplexity of a width and learning rate at a step: the learning rate matters most (best at 0.1), width a little. */
const ppl = (hidden: number, lr: number, seed: number, step: number) => (110 + 45 * Math.abs(Math.log10(lr) + 1) + 60 / hidden + seed) * (1 + 80 / step);
const params = (hidden: number) => 300 * 8 * 2 + 4 * hidden * (8 + hidden) + hidden * 300;
const valid = (hidden: number, lr: number, seed: number, from: number, to: number) =>
  Array.from({ length: (to - from) / 100 }, (_, i) => from + 100 * (i + 1)).map((step) => ({ step, epoch: step / 1000, name: 'valid_ppl', value: ppl(hidden, lr, seed, step) }));

beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  await ensureDashboardBuilt();
  coordinator = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 60_000 });
  const store = coordinator.store;
  const spec = parseSweepSpec(SPEC);
  sweepId = (await store.createSweep({ name: spec.name, spec, specText: `${JSON.stringify(SPEC, null, 2)}\n`, plans: expandSweep(spec) })).id;
  const workers = Array.from({ length: 18 }, (_, i) => `worker-${i}`);
  const claimed = await store.claimMany(workers, 60_000);
  for (const [i, t] of claimed.entries()) {
    if (!t) throw new Error('every trial is claimed');
    const c = t.config as { model: { hidden: number }; training: { lr: number } };
    const [h, lr, w] = [c.model.hidden, c.training.lr, workers[i]!];
    const finish = async (worker: string, attempt: number) => {
      const v = ppl(h, lr, t.seed, 600);
      expect(await store.complete(t.id, worker, attempt, { params: params(h), paramsByLayer: { all: params(h) }, validPpl: v, testPpl: v * 0.97, steps: 600, tokens: 1, seconds: 30, tokensPerSecond: 1, vocabSize: 300, backend: 'test' })).toBe('ok');
    };
    if (lr === 1 && t.seed === 1 && h !== 32) {
      // Stopped by the pruner at step 300.
      const points = valid(h, lr, t.seed, 0, 300);
      await store.addMetrics(t.id, w, t.attempt, points.slice(0, -1));
      const value = ppl(h, lr, t.seed, 300);
      await stopTrialAt(store, t.id, { workerId: w, attempt: t.attempt, step: 300, value, rung: 1, threshold: 150, before: points.slice(0, -1), reason: 'rung 1: not in the best third' });
    } else if (lr === 0.1 && t.seed === 0 && h === 16) {
      // Paused at 300, promoted, resumed on another worker, finished.
      const points = valid(h, lr, t.seed, 0, 300);
      await store.addMetrics(t.id, w, t.attempt, points.slice(0, -1));
      await pauseTrialAt(store, t.id, { workerId: w, attempt: t.attempt, step: 300, value: ppl(h, lr, t.seed, 300), rung: 1, before: points.slice(0, -1), seconds: 12, reason: 'rung 1: paused until a promotion' });
      await promoteTrial(store, sweepId, t.id, 'promoted');
      const resumed = (await store.claim('resumer', 60_000))!;
      expect(resumed).toMatchObject({ id: t.id, attempt: 2 });
      await store.addMetrics(t.id, 'resumer', 2, valid(h, lr, t.seed, 300, 600));
      await finish('resumer', 2);
    } else {
      await store.addMetrics(t.id, w, t.attempt, valid(h, lr, t.seed, 0, 600));
      await finish(w, t.attempt);
    }
  }
  expect((await store.getSweep(sweepId))!.counts).toMatchObject({ succeeded: 16, pruned: 2, total: 18 });
  dashboard = await startDashboard({ port: 0, coordinatorUrl: coordinator.url });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await dashboard?.close().catch(() => {});
  await coordinator?.close().catch(() => {});
});

const VIEWS = ['Optimization history', 'Intermediate values', 'Parallel coordinates', 'Parameter importance', 'Pareto front', 'Slice plot'];

/** Every view's figure names itself first; the figures and the text in each card stay inside the card. */
async function checkViews(page: Page, width: number): Promise<void> {
  await page.getByTestId('importance-chart').waitFor({ timeout: 20_000 });
  await page.getByTestId('pareto-chart').waitFor({ timeout: 20_000 });
  const labels = await page.locator('svg[role="img"]').evaluateAll((svgs) => svgs.map((s) => s.getAttribute('aria-label') ?? ''));
  for (const v of VIEWS) expect(labels.some((l) => l.startsWith(v)), `a figure whose aria-label starts with "${v}" (have: ${labels.map((l) => l.split(':')[0]).join('; ')})`).toBe(true);
  const out = await page.locator('.card').evaluateAll((cards) =>
    cards.flatMap((card) => {
      const c = card.getBoundingClientRect();
      return [...card.querySelectorAll('svg.plot, .table-wrap, .legend, h3')]
        .map((el) => ({ el: `${el.tagName.toLowerCase()}.${el.getAttribute('class') ?? ''} ${(el.getAttribute('aria-label') ?? el.textContent ?? '').slice(0, 40)}`, r: el.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 0 && (r.left < c.left - 0.5 || r.right > c.right + 0.5))
        .map(({ el }) => el);
    }),
  );
  expect(out, 'nothing overflows its card').toEqual([]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth), 'the page does not scroll sideways').toBeLessThanOrEqual(width);
}

describe('the analysis views', () => {
  for (const size of SIZES) {
    it(`the sweep page at ${size.width}×${size.height}: the five views and the slices; importance puts the learning rate first`, { timeout: 90_000 }, async () => {
      const page = await openPage(browser!, pageErrors, size);
      await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweepId)}`);
      await checkViews(page, size.width);
      const bars = await page.getByTestId('importance-bar').evaluateAll((gs) => gs.map((g) => [g.querySelector('text')!.textContent, Number(g.getAttribute('data-importance'))] as [string, number]));
      expect(bars.map((b) => b[0])).toEqual(['lr', 'hidden']);
      expect(bars[0]![1]).toBeGreaterThan(0.6);
      expect(await page.getByTestId('importance-chart').locator('svg').getAttribute('aria-label')).toMatch(/random-forest mean decrease in impurity, 16 trials/);
      // 18 curves; the pruned two marked where they stopped, the resumed one where it resumed.
      expect(await page.getByTestId('intermediate-chart').locator('path[stroke-width="1.1"]').count()).toBe(18);
      expect(await page.getByTestId('mark-stopped').count()).toBe(2);
      expect(await page.getByTestId('mark-resumed').count()).toBe(1);
      expect(await page.getByTestId('history-hv-chart').count()).toBe(1);
      expect(await page.getByTestId('slice-chart').count()).toBe(2);
      expect(await page.getByTestId('pc-count').textContent()).toBe('18 of 18 finished trials');
      await page.screenshot({ path: path.join(OUT, `analysis-sweep-${size.width}.png`), fullPage: true });
      expect(pageErrors).toEqual([]);
      await page.close();
    });
  }

  it('brushing the learning-rate axis keeps the trials in the brush and filters the table; the keyboard moves the brush; Clear filters shows all again', { timeout: 60_000 }, async () => {
    const page = await openPage(browser!, pageErrors, SIZES[0]);
    await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweepId)}`);
    await page.getByTestId('pc-count').waitFor({ timeout: 20_000 });
    const axis = page.locator('[data-testid="pc-axis"][data-key="training.lr"] [data-testid="pc-brush-handle"]');
    await axis.scrollIntoViewIfNeeded();
    const box = (await axis.boundingBox())!;
    // lr on a log axis from 0.01 (bottom) to 1 (top): a drag over the lower middle keeps 0.1 only.
    const yOf = (frac: number) => box.y + box.height * frac;
    await page.mouse.move(box.x + box.width / 2, yOf(0.35));
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, yOf(0.6), { steps: 5 });
    await page.mouse.up();
    await page.getByTestId('pc-count').filter({ hasText: '6 of 18' }).waitFor({ timeout: 5_000 });
    const lrColumn = (await page.getByTestId('pc-table').locator('th').allTextContents()).indexOf('lr');
    const lrsOf = () => page.getByTestId('pc-row').evaluateAll((trs, j) => trs.map((tr) => tr.querySelectorAll('td')[j]!.textContent), lrColumn);
    const lrs = await lrsOf();
    expect(new Set(lrs)).toEqual(new Set(['0.1']));
    expect(await page.getByTestId('pc-line').count()).toBe(6);
    expect(await page.getByTestId('pc-brush').textContent()).toMatch(/^lr: /);
    await page.screenshot({ path: path.join(OUT, 'analysis-brushed.png'), fullPage: false, clip: { x: 0, y: Math.max(0, box.y - 120), width: 1280, height: 800 } });
    // Up a tenth of the axis at a time: the brush leaves 0.1 and reaches 1 (the pruned trials' and the rest of lr 1).
    await axis.focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowUp');
    await page.getByTestId('pc-count').filter({ hasText: /^6 of 18/ }).waitFor({ timeout: 5_000 });
    expect(new Set(await lrsOf())).toEqual(new Set(['1']));
    await page.getByTestId('pc-clear').click();
    await page.getByTestId('pc-count').filter({ hasText: '18 of 18' }).waitFor({ timeout: 5_000 });
    // Sorted by perplexity at first; a click on a header sorts by it, a second click the other way.
    const column = async (name: string) => {
      const j = (await page.getByTestId('pc-table').locator('th').allTextContents()).map((t) => t.replace(/[▲▼]/g, '').trim()).indexOf(name);
      return page.getByTestId('pc-row').evaluateAll((trs, k) => trs.map((tr) => tr.querySelectorAll('td')[k]!.textContent!), j);
    };
    const ppl = (await column('Valid ppl')).map(Number);
    expect(ppl).toEqual([...ppl].sort((x, y) => x - y));
    await page.getByTestId('pc-sort').filter({ hasText: 'hidden' }).click();
    expect((await column('hidden')).map(Number)).toEqual([...Array(6).fill(8), ...Array(6).fill(16), ...Array(6).fill(32)]);
    await page.getByTestId('pc-sort').filter({ hasText: 'hidden' }).click();
    expect((await column('hidden')).map(Number)[0]).toBe(32);
    expect(await page.locator('th[aria-sort="descending"]').textContent()).toMatch(/^hidden/);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('the leaderboard page shows the same views; a click on a Pareto point opens its row', { timeout: 60_000 }, async () => {
    const page = await openPage(browser!, pageErrors, SIZES[0]);
    await page.goto(`${dashboard!.url}/leaderboard?sweep=${encodeURIComponent(sweepId)}`);
    await checkViews(page, SIZES[0]!.width);
    const point = page.getByTestId('pareto-point').last();
    const label = (await point.getAttribute('aria-label'))!.replace(/^open /, '');
    await point.click();
    const opened = page.locator('tr.opened[data-testid="leaderboard-row"]');
    await opened.waitFor({ timeout: 5_000 });
    expect((await opened.getByTestId('config-label').textContent())?.trim()).toBe(label);
    await page.screenshot({ path: path.join(OUT, 'analysis-leaderboard.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('exports the filtered table as CSV and JSON, and a plot as SVG (styles inlined) and PNG', { timeout: 60_000 }, async () => {
    const page = await openPage(browser!, pageErrors, SIZES[0]);
    await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweepId)}`);
    await page.getByTestId('pc-count').waitFor({ timeout: 20_000 });
    const view = page.getByTestId('view-parallel');
    const fetch = async (where: ReturnType<Page['getByTestId']>, button: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), where.getByTestId(button).first().click()]);
      return { name: d.suggestedFilename(), body: fs.readFileSync((await d.path())!) };
    };
    const csv = await fetch(view, 'export-csv');
    expect(csv.name).toBe('trials-filtered.csv');
    const lines = csv.body.toString('utf8').trim().split('\n');
    expect(lines[0]).toBe('#,Method,lr,hidden,Seed,Status,Steps,Params,Valid ppl');
    expect(lines).toHaveLength(1 + 18);
    const json = JSON.parse((await fetch(view, 'export-json')).body.toString('utf8')) as Record<string, string>[];
    expect(json).toHaveLength(18);
    expect(Object.keys(json[0]!)).toContain('Valid ppl');
    expect(Number(json[0]!['Valid ppl'])).toBeCloseTo(Math.min(...json.map((r) => Number(r['Valid ppl']))), 6);
    const history = page.getByTestId('view-history');
    const svg = await fetch(history, 'export-svg');
    expect(svg.name).toBe('optimization-history.svg');
    const text = svg.body.toString('utf8');
    expect(text).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(text).toMatch(/aria-label="Optimization history/);
    expect(text).toMatch(/font-size:11.5px/);
    const png = await fetch(history, 'export-png');
    expect(png.name).toBe('optimization-history.png');
    expect([...png.body.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('notes: a Markdown note written on the sweep page shows rendered (its HTML as text), stays after a reload, and the API has it', { timeout: 60_000 }, async () => {
    const page = await openPage(browser!, pageErrors, SIZES[0]);
    await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweepId)}`);
    await page.getByTestId('notes-edit').click();
    const text = '## Reading\nlr **0.1** wins; see [Optuna](https://optuna.org).\n- widths barely matter\n<img src=x onerror="window.hacked=1">';
    await page.getByTestId('notes-text').fill(text);
    await page.getByTestId('notes-save').click();
    const body = page.getByTestId('notes-body');
    await body.waitFor({ timeout: 10_000 });
    expect(await body.locator('strong').textContent()).toBe('0.1');
    expect(await body.locator('a').getAttribute('href')).toBe('https://optuna.org');
    expect(await body.locator('li').textContent()).toBe('widths barely matter');
    expect(await body.locator('img').count()).toBe(0);
    expect(await body.innerText()).toContain('<img src=x onerror="window.hacked=1">');
    await page.reload();
    await page.getByTestId('notes-body').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { hacked?: number }).hacked)).toBeUndefined();
    expect((await coordinator!.store.getSweep(sweepId))!.note).toBe(text);
    await page.getByTestId('notes').screenshot({ path: path.join(OUT, 'analysis-notes.png') });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('dark mode follows the system: a dark page and cards, light text, the views drawn on it', { timeout: 60_000 }, async () => {
    const page = await browser!.newPage({ viewport: SIZES[0], colorScheme: 'dark' });
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
    await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweepId)}`);
    await checkViews(page, SIZES[0]!.width);
    const colors = await page.evaluate(() => ({ body: getComputedStyle(document.body).backgroundColor, card: getComputedStyle(document.querySelector('.card')!).backgroundColor, ink: getComputedStyle(document.body).color }));
    expect(colors).toEqual({ body: 'rgb(15, 23, 42)', card: 'rgb(17, 28, 49)', ink: 'rgb(226, 232, 240)' });
    await page.screenshot({ path: path.join(OUT, 'analysis-sweep-dark.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
