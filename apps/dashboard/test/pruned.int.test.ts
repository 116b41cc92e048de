// A pruned sweep on the dashboard, in a real browser: a coordinator (PGlite in memory) whose trials
// are stopped, paused, promoted and resumed through the store's own pruning writes
// (@lmsweep/db/testing: judgeReport, pauseTrial, pruneStep), the built dashboard under `next
// start`, Chromium at 1280×800. Paused (amber) and pruned (violet) badges, pruned counted as done,
// where each trial stopped, the verdict on the trial page with dashed markers where it paused and
// resumed, no worker pretended for a paused trial, and the leaderboard's "Stopped early" table.
// Screenshots land in test-output/pruned-*.png.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimedTrial } from '@lmsweep/db';
import { pauseTrialAt, promoteTrial, stopTrialAt } from '@lmsweep/db/testing';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { startCoordinator } from '../../coordinator/src/server.ts';
import { ensureDashboardBuilt, startDashboard, type RunningDashboard } from '../build.ts';
import { launchChromium, openPage } from './browser.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT = path.join(REPO_ROOT, 'test-output');
const VIEWPORT = { width: 1280, height: 800 };

// No pruner in the spec: the verdicts are the test's own, so the coordinator's pruning step leaves the sweep alone.
const SPEC = {
  name: 'browser-pruned',
  dataset: { name: 'ptb', vocabSize: 300 },
  model: { embedding: 8, hidden: 8, layers: 1 },
  budget: { maxSteps: 900, evalEvery: 100 },
  grid: { 'training.lr': [0.01, 0.1, 0.5, 1] },
  seeds: 2,
};

type Coordinator = Awaited<ReturnType<typeof startCoordinator>>;
let coordinator: Coordinator | undefined;
let dashboard: RunningDashboard | undefined;
let browser: Browser | undefined;
const pageErrors: string[] = [];
let sweepId = '';
const trial = new Map<string, ClaimedTrial & { worker: string }>();
const at = (lr: number, seed: number) => trial.get(`${lr}/${seed}`)!;

/** A made-up curve of a learning rate: perplexity falling with the steps, the best at lr 0.01. */
const ppl = (lr: number, seed: number, step: number) => (110 + 40 * (Math.log10(lr) + 2) ** 2 + seed) * (1 + 1.5 * Math.exp(-step / 250));
const points = (lr: number, seed: number, from: number, to: number) => Array.from({ length: (to - from) / 100 }, (_, i) => from + 100 * (i + 1)).map((step) => ({ step, value: ppl(lr, seed, step) }));

/** Training loss and validation points of one attempt, from step `from` (exclusive) to `to`, the last left to the helper that judges it. */
async function report(c: Coordinator, t: { id: string; worker: string; attempt: number }, lr: number, seed: number, from: number, to: number): Promise<{ step: number; value: number }[]> {
  const loss = Array.from({ length: (to - from) / 20 }, (_, i) => from + 20 * (i + 1)).map((step) => ({ step, epoch: step / 1000, name: 'train_loss', value: Math.log(ppl(lr, seed, step)) + 0.05 * Math.sin(step) }));
  expect(await c.store.addMetrics(t.id, t.worker, t.attempt, loss)).toBe(true);
  return points(lr, seed, from, to).slice(0, -1);
}

beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  await ensureDashboardBuilt();
  coordinator = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 60_000 });
  const c = coordinator;
  const store = c.store;
  const spec = parseSweepSpec(SPEC);
  sweepId = (await store.createSweep({ name: spec.name, spec, specText: `${JSON.stringify(SPEC, null, 2)}\n`, plans: expandSweep(spec) })).id;
  const workers = Array.from({ length: 8 }, (_, i) => `worker-${i}`);
  (await store.claimMany(workers, 60_000)).forEach((t, i) => t && trial.set(`${(t.config as { training: { lr: number } }).training.lr}/${t.seed}`, { ...t, worker: workers[i]! }));
  expect(trial.size).toBe(8);

  // lr 0.01: both seeds train to the end.
  for (const seed of [0, 1]) {
    const t = at(0.01, seed);
    await report(c, t, 0.01, seed, 0, 900);
    await store.addMetrics(t.id, t.worker, t.attempt, points(0.01, seed, 0, 900).map((p) => ({ ...p, epoch: p.step / 1000, name: 'valid_ppl' })));
    const v = ppl(0.01, seed, 900);
    expect(await store.complete(t.id, t.worker, t.attempt, { params: 12_000, paramsByLayer: { all: 12_000 }, validPpl: v, testPpl: v * 0.97, steps: 900, tokens: 1, seconds: 30, tokensPerSecond: 1, vocabSize: 300, backend: 'test' })).toBe('ok');
  }
  const stop = async (lr: number, seed: number, step: number, rung: number, threshold: number) => {
    const t = at(lr, seed);
    const before = await report(c, t, lr, seed, 0, step);
    const value = ppl(lr, seed, step);
    await stopTrialAt(store, t.id, { workerId: t.worker, attempt: t.attempt, step, value, rung, threshold, before, reason: `rung ${rung}: valid ppl ${value.toFixed(1)} is not in the best third of its rung (threshold ${threshold.toFixed(1)})` });
  };
  // lr 0.1: pruned at rungs 1 and 0.
  await stop(0.1, 0, 300, 1, 150);
  await stop(0.1, 1, 100, 0, 240);
  // lr 0.5 seed 0 and lr 1 seed 0: paused at step 300, promoted, resumed on another worker; then lr 0.5 pauses again at 600 (waiting), lr 1 is pruned at 600.
  for (const lr of [0.5, 1]) {
    const t = at(lr, 0);
    const before = await report(c, t, lr, 0, 0, 300);
    await pauseTrialAt(store, t.id, { workerId: t.worker, attempt: t.attempt, step: 300, value: ppl(lr, 0, 300), rung: 1, before, seconds: 12, reason: `rung 1: among the best third, paused until a promotion` });
    await promoteTrial(store, sweepId, t.id, 'promoted: the best of rung 1');
    const resumed = (await store.claim(`resumer-${lr}`, 60_000))!;
    expect(resumed).toMatchObject({ id: t.id, attempt: 2, resume: { step: 300 } });
    const r = { id: t.id, worker: `resumer-${lr}`, attempt: 2 };
    const later = await report(c, r, lr, 0, 300, 600);
    const value = ppl(lr, 0, 600);
    if (lr === 0.5) await pauseTrialAt(store, t.id, { workerId: r.worker, attempt: 2, step: 600, value, rung: 2, before: later, seconds: 25, reason: 'rung 2: among the best third, paused until a promotion' });
    else await stopTrialAt(store, t.id, { workerId: r.worker, attempt: 2, step: 600, value, rung: 2, threshold: 140, before: later, reason: `rung 2: valid ppl ${value.toFixed(1)} is not in the best third of its rung (threshold 140.0)` });
  }
  await stop(0.5, 1, 100, 0, 240);
  await stop(1, 1, 300, 1, 150);
  const s = await store.getSweep(sweepId);
  expect(s!.counts).toMatchObject({ succeeded: 2, pruned: 5, paused: 1, total: 8 });

  dashboard = await startDashboard({ port: 0, coordinatorUrl: c.url });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await dashboard?.close().catch(() => {});
  await coordinator?.close().catch(() => {});
});

type Box = { x: number; y: number; width: number; height: number };
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function noSidewaysScroll(page: Page): Promise<void> {
  expect(await page.evaluate(() => document.documentElement.scrollWidth), 'the page does not scroll sideways').toBeLessThanOrEqual(VIEWPORT.width);
}

/** The markers of each curve chart: their steps, and labels that overlap neither each other nor leave the plot. */
async function markersOf(page: Page, chart: string): Promise<string[]> {
  const fig = page.getByTestId(chart);
  const svg = (await fig.locator('svg.plot').boundingBox())!;
  const labels = fig.locator('[data-testid="curve-marker"] text');
  const boxes: { text: string; box: Box }[] = [];
  for (const l of await labels.all()) boxes.push({ text: (await l.textContent()) ?? '', box: (await l.boundingBox())! });
  for (const [i, a] of boxes.entries()) {
    expect(a.box.x >= svg.x - 0.5 && a.box.x + a.box.width <= svg.x + svg.width + 0.5, `marker label "${a.text}" inside the plot`).toBe(true);
    for (const b of boxes.slice(i + 1)) expect(overlaps(a.box, b.box), `marker labels "${a.text}" and "${b.text}" overlap`).toBe(false);
  }
  return boxes.map((b) => b.text);
}

describe('a pruned sweep on the dashboard', () => {
  it('the sweeps list counts pruned trials as done, paused ones as not', { timeout: 60_000 }, async () => {
    const page = await openPage(browser!, pageErrors, VIEWPORT);
    await page.goto(`${dashboard!.url}/`);
    const row = page.getByTestId('sweep-row').filter({ hasText: 'browser-pruned' });
    await row.waitFor({ timeout: 15_000 });
    expect((await row.locator('td.num').textContent())?.trim()).toBe('7/8');
    expect(await row.innerText()).toMatch(/1 paused · 5 pruned · 2 ok/);
    await page.screenshot({ path: path.join(OUT, 'pruned-sweeps.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('the sweep page: paused and pruned counted and filtered, amber and violet badges, where each trial stopped', { timeout: 60_000 }, async () => {
    const page = await openPage(browser!, pageErrors, VIEWPORT);
    await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweepId)}`);
    const counts = page.getByTestId('sweep-counts');
    await counts.filter({ hasText: '5 pruned' }).waitFor({ timeout: 15_000 });
    expect(await counts.innerText()).toMatch(/2 succeeded\s+5 pruned\s+0 running\s+1 paused\s+0 queued/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="trial-row"]').length === 8, null, { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="stopped-row"]').length === 3, null, { timeout: 15_000 });
    const colors = await page.evaluate(() => Object.fromEntries(['paused', 'pruned'].map((s) => [s, getComputedStyle(document.querySelector(`.badge-${s}`)!).backgroundColor])));
    expect(colors).toEqual({ paused: 'rgb(254, 243, 199)', pruned: 'rgb(237, 233, 254)' });
    const stopped = await page.getByTestId('stopped-at').allTextContents();
    expect(stopped.filter((s) => s.startsWith('pruned')).sort()).toEqual(['pruned at step 100', 'pruned at step 100', 'pruned at step 300', 'pruned at step 300', 'pruned at step 600']);
    expect(stopped).toContain('paused at step 600');
    await noSidewaysScroll(page);
    await page.screenshot({ path: path.join(OUT, 'pruned-sweep.png'), fullPage: true });
    // The status filter knows both.
    await page.getByLabel('Status').selectOption('pruned');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="trial-row"]').length === 5, null, { timeout: 15_000 });
    await page.getByLabel('Status').selectOption('paused');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="trial-row"]').length === 1, null, { timeout: 15_000 });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('a trial resumed and then pruned: its verdict, and dashed markers where it paused, resumed and was stopped', { timeout: 60_000 }, async () => {
    const page = await openPage(browser!, pageErrors, VIEWPORT);
    await page.goto(`${dashboard!.url}/trials/${encodeURIComponent(at(1, 0).id)}`);
    const box = page.getByTestId('trial-verdict');
    await box.waitFor({ timeout: 15_000 });
    const text = await box.innerText();
    expect(text).toMatch(/^Pruned at step 600: stopped early/);
    expect(text).toMatch(/Action\s+stop/i);
    expect(text).toMatch(/Rung\s+2/i);
    expect(text).toMatch(/Value vs threshold\s+\d+\.\d vs 140\.0/i);
    expect(text).toMatch(/Resumed\s+1×/i);
    expect(await page.getByTestId('verdict-reason').textContent()).toMatch(/^rung 2: valid ppl \d+\.\d is not in the best third of its rung \(threshold 140\.0\)$/);
    await page.getByTestId('chart-valid_ppl').locator('[data-testid="curve-marker"]').first().waitFor({ timeout: 15_000 });
    for (const chart of ['chart-valid_ppl', 'chart-train_loss']) expect(await markersOf(page, chart)).toEqual(['paused · resumed at 300', 'pruned at 600']);
    expect(await page.getByTestId('chart-valid_ppl').locator('.legend').innerText()).toMatch(/attempt 1, to step 300\s+attempt 2, from step 300/);
    // Not running: its last worker, no progress bar.
    expect(await page.getByText('Last worker', { exact: true }).count()).toBe(1);
    expect(await page.locator('.fact dt', { hasText: /^Worker$/ }).count()).toBe(0);
    expect(await page.getByRole('progressbar').count()).toBe(0);
    await noSidewaysScroll(page);
    await page.screenshot({ path: path.join(OUT, 'pruned-trial.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('a paused trial: waiting at its rung, no worker running it, where it paused twice', { timeout: 60_000 }, async () => {
    const page = await openPage(browser!, pageErrors, VIEWPORT);
    await page.goto(`${dashboard!.url}/trials/${encodeURIComponent(at(0.5, 0).id)}`);
    const box = page.getByTestId('trial-verdict');
    await box.waitFor({ timeout: 15_000 });
    expect(await box.innerText()).toMatch(/^Paused at step 600: waiting at its rung, it resumes from its checkpoint if promoted/);
    expect(await page.locator('h1 .badge-paused').textContent()).toBe('paused');
    await page.getByTestId('chart-valid_ppl').locator('[data-testid="curve-marker"]').first().waitFor({ timeout: 15_000 });
    expect(await markersOf(page, 'chart-valid_ppl')).toEqual(['paused · resumed at 300', 'paused at 600']);
    const facts = await page.locator('.card').first().locator('.fact').allInnerTexts();
    expect(facts.map((f) => f.replace(/\s+/g, ' ').trim())).toEqual(expect.arrayContaining([expect.stringMatching(/^LAST WORKER /i), expect.stringMatching(/^STEPS TRAINED 600$/i), expect.stringMatching(/^RUNG 2$/i), expect.stringMatching(/^PAUSED /i)]));
    expect(await page.locator('.fact dt', { hasText: /^Worker$/ }).count()).toBe(0);
    expect(await page.getByRole('progressbar').count()).toBe(0);
    await noSidewaysScroll(page);
    await page.screenshot({ path: path.join(OUT, 'pruned-trial-paused.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('the leaderboard ranks the configuration that finished and lists the ones stopped early below', { timeout: 60_000 }, async () => {
    const page = await openPage(browser!, pageErrors, VIEWPORT);
    await page.goto(`${dashboard!.url}/leaderboard?sweep=${encodeURIComponent(sweepId)}`);
    await page.getByTestId('stopped-row').first().waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('leaderboard-row').count()).toBe(1);
    expect((await page.getByTestId('leaderboard-row').getByTestId('config-label').textContent())?.trim()).toBe('dense lr 0.01');
    const rows = await page.getByTestId('stopped-row').evaluateAll((trs) =>
      trs.map((tr) => [tr.querySelector('[data-testid="config-label"]')!.textContent!.trim(), tr.querySelector('[data-testid="stopped-at"]')!.textContent!.trim(), tr.querySelector('[data-testid="stopped-ppl"]')!.textContent!.trim()]),
    );
    expect(rows).toEqual([
      ['dense lr 0.5', 'paused at step 600', ppl(0.5, 0, 600).toFixed(1)],
      ['dense lr 1', 'stopped at step 600', ppl(1, 0, 600).toFixed(1)],
      ['dense lr 0.1', 'stopped at step 300', ppl(0.1, 0, 300).toFixed(1)],
    ]);
    expect(await page.getByTestId('stopped-early').innerText()).toMatch(/3 configurations the pruner stopped/);
    // Every cell inside its column.
    const cells = await page.getByTestId('stopped-table').locator('td').evaluateAll((tds) =>
      tds.map((td) => {
        const c = td.getBoundingClientRect();
        const r = document.createRange();
        r.selectNodeContents(td);
        const b = r.getBoundingClientRect();
        return { text: td.textContent ?? '', overflows: b.width > 0 && (b.x < c.x - 0.5 || b.x + b.width > c.x + c.width + 0.5) };
      }),
    );
    for (const cell of cells) expect(cell.overflows, `"${cell.text}" stays inside its cell`).toBe(false);
    await noSidewaysScroll(page);
    await page.screenshot({ path: path.join(OUT, 'pruned-leaderboard.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
