// A sampled sweep's page in a real browser: a coordinator (PGlite in memory), simulated workers
// over the real worker websocket (perplexity a known function of the configuration: no
// training), the built dashboard under `next start`, Chromium. The search panel follows the
// search live (budget, in flight, best so far, the best-perplexity chart; with two objectives
// the hypervolume chart and the rejected points), and "Add configurations" runs it again.
// Screenshots: test-output/dashboard-search-*.png.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { TrialResult } from '@lmsweep/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage } from './browser.ts';
import { startCoordinator } from '../../coordinator/src/server.ts';
import { SAMPLED, searchResult, work } from '../../coordinator/test/growth-sim.ts';
import { apiClient, type ApiClient } from '../../../tools/cli/src/client.ts';
import { ensureDashboardBuilt, startDashboard, type RunningDashboard } from '../build.ts';
import { formatCount } from '../src/lib/format.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT = path.join(REPO_ROOT, 'test-output');

const TPE = { ...SAMPLED, name: 'browser-search-tpe', search: { ...SAMPLED.search, trials: 12 } };

// PHM with n from {2, 3, 4}: 3 never divides the embedding (8), so the sampler's 3s are rejected.
const MOTPE = {
  name: 'browser-search-motpe',
  dataset: { name: 'ptb', vocabSize: 300 },
  model: { embedding: 8, hidden: 8, layers: 1 },
  search: { sampler: 'motpe', trials: 12, parallel: 3, seed: 3, objectives: ['params', 'validPpl'] },
  space: { method: ['phm'], 'model.phm.n': { values: [2, 3, 4] }, 'training.lr': { log_uniform: [0.0001, 0.1] }, 'model.hidden': { int: [8, 64], step: 8 } },
  seeds: 2,
};

/** A trade-off: more hidden units (fewer with a larger PHM n) cost parameters and buy perplexity. */
const tradeOff = (config: unknown, seed: number): TrialResult => {
  const c = config as { training: { lr: number }; model: { hidden: number; phm?: { n: number } } };
  const n = c.model.phm?.n ?? 1;
  const params = Math.round((c.model.hidden * 400) / n);
  const ppl = 100 + 40 * (Math.log10(c.training.lr) + 2) ** 2 + 1600 / c.model.hidden + 4 * n + 0.2 * seed;
  return { ...searchResult(config, seed), params, paramsByLayer: { all: params }, validPpl: ppl, testPpl: ppl + 1 };
};

let coordinator: Awaited<ReturnType<typeof startCoordinator>> | undefined;
let api: ApiClient;
let dashboard: RunningDashboard | undefined;
let browser: Browser | undefined;
const pageErrors: string[] = [];

const newPage = (): Promise<Page> => openPage(browser!, pageErrors);

/** Two simulated workers until the sweep ends (or `max` trials each). */
async function runSweep(id: string, result: (config: unknown, seed: number) => TrialResult, max = Infinity): Promise<void> {
  const ended = async () => (await api.sweeps.get.query({ id })).status !== 'running';
  await Promise.all([0, 1].map((i) => work(coordinator!.url, ended, max, `sim-${i}`, result)));
}

const text = async (page: Page, testId: string) => (await page.getByTestId(testId).first().innerText()).replace(/\s+/g, ' ').trim();

beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  await ensureDashboardBuilt();
  coordinator = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 20_000, backoffBaseMs: 0 });
  api = apiClient(coordinator.url);
  dashboard = await startDashboard({ port: 0, coordinatorUrl: coordinator.url });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await dashboard?.close().catch(() => {});
  await coordinator?.close().catch(() => {});
});

describe('a sampled sweep in the browser', () => {
  it('the editor says what a search will run: its sampler, budget and parallel, and the trials queued at launch', { timeout: 60_000 }, async () => {
    const page = await newPage();
    await page.goto(`${dashboard!.url}/`);
    const editor = page.getByLabel(/sweep spec/i);
    await editor.waitFor();
    await editor.fill(fs.readFileSync(path.join(REPO_ROOT, 'examples/search.yaml'), 'utf8'));
    const status = page.getByTestId('trial-count').filter({ hasText: 'a tpe search of 30 configurations, 4 at a time' });
    await status.waitFor({ timeout: 20_000 });
    expect(await status.textContent()).toMatch(/; \d+ trials queued at launch$/);
    await page.screenshot({ path: path.join(OUT, 'dashboard-search-editor.png') });
    await page.close();
  });

  it('shows its search live: sampler, budget 12/12, the best configuration as the API has it, the best-perplexity chart; "Add configurations" runs it again', { timeout: 240_000 }, async () => {
    const sweep = await api.sweeps.create.mutate({ spec: TPE });
    const page = await newPage();
    await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweep.id)}`);
    const panel = page.getByTestId('search-panel');
    await panel.waitFor({ timeout: 15_000 });
    expect(await text(page, 'search-sampler')).toBe('tpe seed 5 · objective validPpl');
    expect(await text(page, 'search-budget')).toBe('3/12');
    expect(await text(page, 'search-finished')).toBe('0 finished · 3 in flight of 3 at a time');
    await page.getByTestId('stream-state').filter({ hasText: /^live$/ }).waitFor({ timeout: 15_000 });

    // Part of the way: the panel follows the results as they commit.
    await runSweep(sweep.id, searchResult, 6);
    await page.getByTestId('search-finished').filter({ hasText: /^[1-9]\d* finished/ }).waitFor({ timeout: 15_000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, 'dashboard-search-running.png'), fullPage: true });

    await runSweep(sweep.id, searchResult);
    expect((await api.sweeps.get.query({ id: sweep.id })).status).toBe('succeeded');
    const view = (await api.sweeps.search.query({ id: sweep.id }))!;
    expect(view).toMatchObject({ budget: 12, chosen: 12, finished: 12, inFlight: 0 });
    await page.getByTestId('search-finished').filter({ hasText: '12 finished · 0 in flight of 3 at a time' }).waitFor({ timeout: 15_000 });
    expect(await text(page, 'search-budget')).toBe('12/12');
    expect(await text(page, 'search-best-ppl')).toBe(view.best!.validPpl.toFixed(1));
    expect(await text(page, 'search-best-params')).toBe(formatCount(view.best!.params));
    expect(await page.getByTestId('search-best').innerText()).toMatch(/mean of 2 seeds/);
    const values = await page.getByTestId('search-best-value').allTextContents();
    expect(values.sort()).toEqual([String(+Number(view.best!.point['training.lr']).toPrecision(4)), String(view.best!.point['model.hidden'])].sort());
    // The chart: every finished configuration a dot, the best so far a line through 12 points ending at the best.
    const chart = page.getByTestId('search-best-chart');
    const d = (await chart.locator('path[stroke]').first().getAttribute('d')) ?? '';
    expect(d.match(/[ML]/g)).toHaveLength(12);
    expect(await chart.locator('circle').count()).toBe(24);
    // (drawn at its container's width, measured again when its first points replaced the empty note)
    expect(Number(await chart.locator('svg').getAttribute('width'))).toBeGreaterThan(600);
    expect(await chart.locator('circle title').last().textContent()).toBe(`best so far — configurations finished 12: valid perplexity ${+view.trace.at(-1)!.best!.toPrecision(5)}`);
    expect(await page.getByTestId('search-hv-chart').count()).toBe(0);
    // The best configuration's row in the leaderboard, by its anchor.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="leaderboard-row"]').length === 12, null, { timeout: 15_000 });
    expect(await page.locator(`#lb-${view.best!.configKey}`).count()).toBe(1);
    // The trials table names the sampled parameters.
    expect(await page.getByTestId('trials-table').locator('th').allTextContents()).toEqual(expect.arrayContaining(['lr', 'hidden']));
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, 'dashboard-search-tpe.png'), fullPage: true });
    await panel.screenshot({ path: path.join(OUT, 'dashboard-search-tpe-panel.png') });
    await page.getByTestId('search-best-link').click();
    expect(new URL(page.url()).hash).toBe(`#lb-${view.best!.configKey}`);

    // Three more configurations from the page: the sweep runs again, the budget reads 15.
    await page.evaluate(() => window.scrollTo(0, 0));
    expect(await page.getByTestId('add-seeds').count()).toBe(1);
    expect(await page.getByTestId('add-values').count()).toBe(0);
    await page.getByTestId('extend-trials').fill('3');
    await page.getByTestId('add-configs').click();
    await page.getByTestId('extend-note').filter({ hasText: /^added 3 more configurations for the search \(15 in all; sampled as slots free, 3 at once\)$/ }).waitFor({ timeout: 15_000 });
    expect((await api.sweeps.get.query({ id: sweep.id })).status).toBe('running');
    await page.getByRole('heading', { name: /browser-search-tpe/ }).filter({ hasText: 'running' }).waitFor({ timeout: 15_000 });
    await page.getByTestId('extensions').filter({ hasText: '3 more configurations for the search' }).waitFor({ timeout: 15_000 });
    await runSweep(sweep.id, searchResult);
    await page.getByTestId('search-finished').filter({ hasText: '15 finished · 0 in flight' }).waitFor({ timeout: 15_000 });
    expect(await text(page, 'search-budget')).toBe('15/15');
    await page.getByRole('heading', { name: /browser-search-tpe/ }).filter({ hasText: 'succeeded' }).waitFor({ timeout: 15_000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, 'dashboard-search-extended.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('two objectives (motpe, params and validPpl): the hypervolume after each finished configuration, and the rejected points with their reason', { timeout: 180_000 }, async () => {
    const sweep = await api.sweeps.create.mutate({ spec: MOTPE });
    await runSweep(sweep.id, tradeOff);
    expect((await api.sweeps.get.query({ id: sweep.id })).status).toBe('succeeded');
    const view = (await api.sweeps.search.query({ id: sweep.id }))!;
    expect(view).toMatchObject({ sampler: 'motpe', budget: 12, chosen: 12, finished: 12 });
    expect(view.rejected).toBeGreaterThan(0);

    const page = await newPage();
    await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweep.id)}`);
    await page.getByTestId('search-finished').filter({ hasText: '12 finished' }).waitFor({ timeout: 15_000 });
    expect(await text(page, 'search-sampler')).toBe('motpe seed 3 · objectives params, validPpl');
    expect(await text(page, 'search-budget')).toBe('12/12');
    expect(await text(page, 'search-best-ppl')).toBe(view.best!.validPpl.toFixed(1));
    // The hypervolume: a line through 12 points, never falling, ending at the API's value.
    const hv = page.getByTestId('search-hv-chart');
    await hv.waitFor();
    const d = (await hv.locator('path[stroke]').first().getAttribute('d')) ?? '';
    expect(d.match(/[ML]/g)).toHaveLength(12);
    expect(await hv.locator('circle').count()).toBe(12);
    const last = view.trace.at(-1)!.hypervolume!;
    expect(last).toBeGreaterThan(0);
    expect(await hv.locator('circle title').last().textContent()).toBe(`hypervolume — configurations finished 12: hypervolume ${+last.toPrecision(5)}`);
    const ys = [...d.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeLessThanOrEqual(ys[i - 1]!); // (svg y grows downwards)
    expect(await text(page, 'search-reference')).toContain(`perplexity ${view.reference![1].toFixed(1)}.`);
    expect(await page.getByTestId('search-best-chart').count()).toBe(1);
    // The rejected points: PHM's n = 3, with the example message.
    const reasons = page.getByTestId('search-reason');
    expect(await reasons.count()).toBe(view.reasons.length);
    expect(await reasons.first().innerText()).toMatch(new RegExp(`^model\\.phm\\.n\\s+${view.reasons[0]!.count}\\s+.*divide`));
    expect(await page.getByTestId('search-rejected').innerText()).toMatch(new RegExp(`^${view.rejected} points? rejected`));
    await page.screenshot({ path: path.join(OUT, 'dashboard-search-motpe.png'), fullPage: true });
    await page.getByTestId('search-panel').screenshot({ path: path.join(OUT, 'dashboard-search-motpe-panel.png') });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
