// The views of a sweep too large to draw an element per point, in a real browser: 750
// configurations × 2 seeds (their results written in bulk), the built dashboard, Chromium. The
// Pareto front keeps an element per front point and draws the dominated ones batched; history,
// slices and parallel coordinates batch theirs too; a batched point still names its
// configuration on hover and opens its leaderboard row (on another page of the table) on a click.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishGridInBulk } from '@lmsweep/db/testing';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { startCoordinator } from '../../coordinator/src/server.ts';
import { ensureDashboardBuilt, startDashboard, type RunningDashboard } from '../build.ts';
import { DENSE } from '../src/components/dots.tsx';
import { launchChromium, openPage } from './browser.ts';

const OUT = path.join(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..'), 'test-output');
const WIDTHS = Array.from({ length: 30 }, (_, i) => 8 + 4 * i);
const LRS = Array.from({ length: 25 }, (_, i) => Number((10 ** (-4 + (3 * i) / 24)).toPrecision(4)));

type Coordinator = Awaited<ReturnType<typeof startCoordinator>>;
let coordinator: Coordinator | undefined;
let dashboard: RunningDashboard | undefined;
let browser: Browser | undefined;
const pageErrors: string[] = [];
let sweepId = '';

beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  await ensureDashboardBuilt();
  coordinator = await startCoordinator({ port: 0, databaseUrl: 'memory://' });
  const spec = parseSweepSpec({ name: 'browser-dense', dataset: { name: 'ptb', vocabSize: 300 }, budget: { maxSteps: 500, evalEvery: 100 }, grid: { 'model.hidden': WIDTHS, 'training.lr': LRS }, seeds: 2 });
  sweepId = (await coordinator.store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec) })).id;
  await finishGridInBulk(coordinator.store, sweepId);
  expect((await coordinator.store.getSweep(sweepId))!.counts).toMatchObject({ succeeded: 1500, total: 1500 });
  dashboard = await startDashboard({ port: 0, coordinatorUrl: coordinator.url });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await dashboard?.close().catch(() => {});
  await coordinator?.close().catch(() => {});
});

describe('views of 750 configurations', () => {
  it('draw their points batched; a batched Pareto point names its configuration on hover and opens its row on a click', { timeout: 120_000 }, async () => {
    const page = await openPage(browser!, pageErrors, { width: 1920, height: 1080 });
    await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweepId)}`);
    const pareto = page.getByTestId('pareto-chart');
    await pareto.getByTestId('dot-layer').waitFor({ timeout: 30_000 });
    await page.getByTestId('slice-chart').first().waitFor({ timeout: 30_000 });
    // The front (one per width at most) keeps its elements; the other configurations are batched.
    const front = await pareto.getByTestId('pareto-point').count();
    const batched = Number(await pareto.getByTestId('dot-layer').getAttribute('data-count'));
    expect(front).toBeGreaterThan(1);
    expect(front).toBeLessThanOrEqual(WIDTHS.length);
    expect(front + batched).toBe(750);
    // Every finished trial on the history, every trial on each slice, the best 2,000 lines… all 1,500 here, batched.
    expect(Number(await page.getByTestId('history-chart').getByTestId('dot-layer').getAttribute('data-count'))).toBe(1500);
    const slices = await page.getByTestId('slice-chart').getByTestId('dot-layer').evaluateAll((ls) => ls.map((l) => Number(l.getAttribute('data-count'))));
    expect(slices).toEqual([1500, 1500]);
    expect(await page.getByTestId('pc-line').count()).toBe(0);
    const lines = await page.getByTestId('pc-lines').evaluateAll((ps) => ps.reduce((n, p) => n + Number(p.getAttribute('data-count')), 0));
    expect(lines).toBe(1500);
    expect(1500).toBeGreaterThan(DENSE);

    // The worst configuration's ring (highest on the plot, far from the front): hover it, then click it.
    const ring = await pareto.getByTestId('dot-layer').locator('path[fill="var(--card)"]').first().getAttribute('d');
    const centres = [...ring!.matchAll(/M([\d.]+),([\d.]+)a4\.5/g)].map((m) => ({ x: Number(m[1]) + 4.5, y: Number(m[2]) }));
    expect(centres.length).toBe(batched);
    const worst = centres.reduce((a, b) => (b.y < a.y ? b : a));
    await pareto.scrollIntoViewIfNeeded();
    const box = (await pareto.locator('svg.plot').boundingBox())!;
    await page.mouse.move(box.x + worst.x, box.y + worst.y);
    const tip = page.getByTestId('dot-tip');
    await tip.waitFor({ timeout: 5_000 });
    const said = await tip.locator('tspan').allTextContents();
    expect(said[1]).toMatch(/^method /);
    expect(said.some((l) => /^Pareto rank \d+$/.test(l))).toBe(true);
    expect(said.some((l) => /^valid ppl /.test(l))).toBe(true);
    await pareto.screenshot({ path: path.join(OUT, 'dense-pareto-hover.png') });
    const at = (await pareto.locator('svg.plot').boundingBox())!;
    await page.mouse.click(at.x + worst.x, at.y + worst.y);
    // Its row is past the table's first page of 100: the table turns to it and marks it.
    const opened = page.locator('tr.opened[data-testid="leaderboard-row"]');
    await opened.waitFor({ timeout: 10_000 });
    expect(Number(await opened.getAttribute('data-rank'))).toBeGreaterThanOrEqual(100);
    expect((await opened.getByTestId('config-label').textContent())?.trim()).toBe(said[0]);
    await page.getByTestId('analysis').screenshot({ path: path.join(OUT, 'dense-analysis.png') });
    await page.screenshot({ path: path.join(OUT, 'dense-sweep-1920.png'), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth), 'the page does not scroll sideways').toBeLessThanOrEqual(1920);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
