// The dashboard's layout at 1280×800 in a real browser, on the sweeps a reader meets first: the
// demo (five methods, three seeds) and a paper-style grid of compression methods × rates. Their
// trials are finished through the coordinator's store (not trained: the numbers are made up, the
// configurations are the real expansion of the specs), then Chromium measures what it drew.
// Screenshots land in test-output/layout-*.png.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './browser.ts';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { putArtifact } from '@lmsweep/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from '../../coordinator/src/server.ts';
import { startWorker } from '../../worker/src/agent.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { renderLeaderboard } from '../../../tools/cli/src/leaderboard-table.ts';
import { gridKeys } from '@lmsweep/protocol/labels';
import { ensureDashboardBuilt, startDashboard, type RunningDashboard } from '../build.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT = path.join(REPO_ROOT, 'test-output');
const VIEWPORT = { width: 1280, height: 800 };

/** Methods × rates, as in Chen et al.'s tables (8 frequency blocks: every rate here is met within 1%). */
const METHODS_BY_RATE = `name: methods-by-rate
dataset: { name: ptb, vocabSize: 2000 }
model: { embedding: 128, hidden: 128, layers: 1 }
training: { batchSize: 20, unroll: 20, optimizer: adam, lr: 0.003 }
budget: { maxSteps: 300 }
compress: { target: both, blocks: 8, finetune: { maxSteps: 100 } }
grid:
  method: [svd, weighted-svd, block-weighted-svd, dynamic-rank, groupreduce]
  compress.rate: [2, 4]
seeds: 2
`;

type Coordinator = Awaited<ReturnType<typeof startCoordinator>>;
let coordinator: Coordinator | undefined;
let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
let dashboard: RunningDashboard | undefined;
let browser: Browser | undefined;
const pageErrors: string[] = [];
const sweeps: { demo: string; rates: string } = { demo: '', rates: '' };

/** Made-up but plausible results: parameters follow the method's compression, perplexity rises with it. */
function resultFor(config: { method: string; compress?: { rate: number } }, seed: number) {
  const lstm = 131_584;
  const matrices = 2 * 2000 * 128;
  const rate = config.compress?.rate ?? 1;
  const table: Record<string, [number, number]> = {
    dense: [lstm + matrices, 180],
    'dense-finetune': [lstm + matrices, 178],
    phm: [Math.round(lstm / 4) + 2000 * 128 + 2000 * 32, 196],
    lowrank: [16 * 4 * 256 + 2000 * 128 + 16 * 2128, 205],
  };
  const quality: Record<string, number> = { svd: 1.2, 'weighted-svd': 0.9, 'block-weighted-svd': 0.8, 'dynamic-rank': 0.7, groupreduce: 0.5 };
  const [params, ppl] = table[config.method] ?? [lstm + Math.round(matrices / rate), 180 + (quality[config.method] ?? 1) * 8 * rate];
  const validPpl = ppl + (seed - 1) * 1.5;
  return { params, paramsByLayer: { all: params }, validPpl, testPpl: validPpl * 0.96, steps: 300, tokens: 120_000, seconds: 60, tokensPerSecond: 2000, vocabSize: 2000, backend: 'test' };
}

/** Creates a sweep and finishes every trial through the store, baselines first (compression trials wait for theirs). */
async function finishedSweep(c: Coordinator, specText: string): Promise<string> {
  const spec = parseSweepSpec(specText);
  const sweep = await c.store.createSweep({ name: spec.name, spec, specText, plans: expandSweep(spec) });
  for (let round = 0; round < 10; round++) {
    const claimed = (await c.store.claimMany(Array.from({ length: 40 }, (_, i) => `layout-${round}-${i}`), 60_000)).filter((t) => t !== null);
    if (claimed.length === 0) break;
    // A baseline completes only with its checkpoint stored (its compression trials start from it).
    for (const [i, t] of claimed.entries()) await putArtifact(c.store, t.id, `layout-${round}-${i}`, t.attempt, 'checkpoint', new Uint8Array([1, 2, 3]));
    const outcomes = await c.store.completeMany(
      claimed.map((t, i) => ({ trialId: t.id, workerId: `layout-${round}-${i}`, attempt: t.attempt, result: resultFor(t.config as { method: string; compress?: { rate: number } }, t.seed) })),
    );
    expect(outcomes.every((o) => o === 'ok')).toBe(true);
  }
  const { items } = await c.store.listTrials({ sweepId: sweep.id, limit: 500 });
  expect(items.every((t) => t.status === 'succeeded')).toBe(true);
  return sweep.id;
}

const newPage = (): Promise<Page> => openPage(browser!, pageErrors, VIEWPORT);

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (a: Box, outer: Box) => a.x >= outer.x - 0.5 && a.y >= outer.y - 0.5 && a.x + a.width <= outer.x + outer.width + 0.5 && a.y + a.height <= outer.y + outer.height + 0.5;

beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  await ensureDashboardBuilt();
  coordinator = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 60_000 });
  sweeps.demo = await finishedSweep(coordinator, fs.readFileSync(path.join(REPO_ROOT, 'examples/demo.yaml'), 'utf8'));
  sweeps.rates = await finishedSweep(coordinator, METHODS_BY_RATE);
  // Nothing is left to claim: this worker stays idle and connected, its device text as a worker reports it.
  worker = await startWorker({ coordinatorUrl: coordinator.url, backend: 'wasm', name: 'layout-worker', quiet: true });
  // And one with a long device string, as a GPU node reports it.
  await coordinator.store.upsertWorker({ name: 'gpu-node-07', host: 'gpu07.cluster.example.org', backend: 'tensorflow-gpu', device: 'NVIDIA H200 (141 GB HBM3e), CUDA 12.4, driver 550.54, tfjs-node-gpu 4.22', version: '0.1.0' });
  dashboard = await startDashboard({ port: 0, coordinatorUrl: coordinator.url });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await dashboard?.close().catch(() => {});
  await worker?.stop().catch(() => {});
  await coordinator?.close().catch(() => {});
});

/** The configuration column of `lmsweep leaderboard --sweep ID` (the terminal's table), without its " (baseline)". */
async function terminalLabels(sweepId: string): Promise<string[]> {
  const api = apiClient(coordinator!.url);
  const rows = await api.leaderboard.list.query({ sweepId, sort: 'pareto' });
  const prefer = gridKeys((await api.sweeps.get.query({ id: sweepId })).spec);
  return renderLeaderboard(rows, { prefer })
    .split('\n')
    .slice(2)
    .map((l) => (/^.\s+(.*?)\s{2,}\d/.exec(l)?.[1] ?? l).replace(/ \(baseline\)$/, ''));
}

/** Waits for the leaderboard's rows and plot, then checks what must hold at 1280×800 and returns the configuration labels. */
async function checkLeaderboard(page: Page, url: string, configurations: number, shot: string): Promise<string[]> {
  await page.goto(url);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="leaderboard-row"]').length === n && !!document.querySelector('[data-testid="pareto-chart"] svg'), configurations, { timeout: 30_000 });
  // Let the plot settle at its measured width.
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(OUT, `${shot}.png`), fullPage: true });
  await page.screenshot({ path: path.join(OUT, `${shot}-viewport.png`) });

  // The result is on screen: every perplexity cell inside the viewport, no sideways scrolling.
  const table = page.getByTestId('leaderboard-table');
  const headers = (await table.locator('thead th').allTextContents()).map((t) => t.trim().toLowerCase());
  for (const name of ['valid ppl', 'test ppl']) {
    const col = headers.indexOf(name);
    expect(col, `a "${name}" column`).toBeGreaterThanOrEqual(0);
    const cells = [table.locator('thead th').nth(col), ...(await table.locator(`tbody tr td:nth-child(${col + 1})`).all())];
    for (const cell of cells) {
      const b = (await cell.boundingBox())!;
      expect(b.x, `${name} column starts inside the viewport`).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width, `${name} column ends inside the 1280 px viewport`).toBeLessThanOrEqual(VIEWPORT.width);
    }
  }
  const wrap = await table.evaluate((t) => ({ scroll: t.parentElement!.scrollWidth, client: t.parentElement!.clientWidth }));
  expect(wrap.scroll, 'the table fits its card without scrolling sideways').toBeLessThanOrEqual(wrap.client + 1);
  expect(await page.evaluate(() => document.documentElement.scrollWidth), 'the page does not scroll sideways').toBeLessThanOrEqual(VIEWPORT.width);

  // Each header once.
  expect(new Set(headers).size, `headers ${headers.join(', ')}`).toBe(headers.length);

  // Plot labels: none overlaps another, none leaves the plot; every point names its configuration on hover.
  const chart = page.getByTestId('pareto-chart');
  const svg = (await chart.locator('svg.plot').boundingBox())!;
  const area = (await chart.locator('[data-testid="plot-area"]').count()) ? (await chart.locator('[data-testid="plot-area"]').boundingBox())! : svg;
  const labels = await chart.locator('text.pt-label').all();
  const boxes: { text: string; box: Box }[] = [];
  for (const l of labels) boxes.push({ text: (await l.textContent()) ?? '', box: (await l.boundingBox())! });
  for (const { text, box } of boxes) expect(inside(box, area), `label "${text}" ${JSON.stringify(box)} inside the plot ${JSON.stringify(area)}`).toBe(true);
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      expect(overlaps(boxes[i]!.box, boxes[j]!.box), `labels "${boxes[i]!.text}" and "${boxes[j]!.text}" overlap`).toBe(false);
    }
  }
  expect(boxes.length, 'some points are named on the plot').toBeGreaterThanOrEqual(Math.min(3, configurations));
  const points = chart.locator('g.pt');
  expect(await points.count()).toBe(configurations);
  const tips = await points.locator('> title').allTextContents();
  const rows = table.getByTestId('leaderboard-row');
  const label = async (i: number) => ((await rows.nth(i).getByTestId('config-label').textContent()) ?? '').trim();
  const names: string[] = [];
  for (let i = 0; i < configurations; i++) names.push(await label(i));
  for (const n of names) expect(tips.some((t) => t.split('\n')[0] === n), `a point whose tooltip names "${n}"`).toBe(true);
  return names;
}

describe('dashboard layout at 1280×800', () => {
  it('the demo\'s leaderboard: its result on screen, labels naming only what each method sets, plot labels apart and inside', { timeout: 120_000 }, async () => {
    const page = await newPage();
    // The five methods and the dense + fine-tune control (compress.control in the demo).
    const names = await checkLeaderboard(page, `${dashboard!.url}/leaderboard?sweep=${encodeURIComponent(sweeps.demo)}`, 6, 'layout-leaderboard-demo');
    // No field of another method, shown as "—" or otherwise.
    for (const n of names) expect(n).not.toMatch(/—|lowrank\.|phm\.|=undefined/);
    const CONTROL = 'dense + fine-tune';
    const byMethod = (m: string) => names.find((n) => (m === CONTROL ? n.startsWith(CONTROL) : !n.startsWith(CONTROL) && n.split(' ')[0] === m)) ?? '';
    for (const m of ['dense', 'phm', 'lowrank', 'svd', 'groupreduce', CONTROL]) expect(byMethod(m), `a row for ${m} in ${names.join(' | ')}`).not.toBe('');
    expect(byMethod('dense')).not.toMatch(/rate|rank|blocks|iters/);
    expect(byMethod('phm')).not.toMatch(/rate|rank|blocks|iters/);
    // The terminal's leaderboard labels each configuration the same way.
    expect(names, 'dashboard and terminal labels').toEqual(await terminalLabels(sweeps.demo));
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('a grid of methods × rates: each row names its rate, no option of another method', { timeout: 120_000 }, async () => {
    const page = await newPage();
    const names = await checkLeaderboard(page, `${dashboard!.url}/leaderboard?sweep=${encodeURIComponent(sweeps.rates)}`, 11, 'layout-leaderboard-rates');
    for (const n of names) expect(n).not.toMatch(/—/);
    // One-block methods name the rate alone; block methods their 8 blocks too.
    for (const m of ['svd', 'weighted-svd', 'block-weighted-svd', 'dynamic-rank', 'groupreduce']) {
      for (const r of [2, 4]) expect(names, `${m} at rate ${r}`).toContain(`${m} rate ${r}${m.includes('svd') && m !== 'block-weighted-svd' ? '' : ', 8 blocks'}`);
    }
    expect(names.find((n) => n.startsWith('dense'))).toBe('dense');
    expect(names, 'dashboard and terminal labels').toEqual(await terminalLabels(sweeps.rates));
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('every sweep\'s leaderboard at once (17 configurations, a sweep column)', { timeout: 120_000 }, async () => {
    const page = await newPage();
    await checkLeaderboard(page, `${dashboard!.url}/leaderboard`, 17, 'layout-leaderboard-all');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('the sweep page\'s trials table names each column once', { timeout: 60_000 }, async () => {
    const page = await newPage();
    await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweeps.rates)}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="trial-row"]').length === 22, null, { timeout: 30_000 });
    await page.getByTestId('leaderboard-row').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(OUT, 'layout-sweep.png'), fullPage: true });
    const headers = (await page.getByTestId('trials-table').locator('thead th').allTextContents()).map((t) => t.trim().toLowerCase());
    expect(headers.filter((h) => h === 'method'), `headers ${headers.join(', ')}`).toHaveLength(1);
    expect(new Set(headers).size, `headers ${headers.join(', ')}`).toBe(headers.length);
    expect(headers).toContain('rate');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('the workers page: the status badge never covers the device text', { timeout: 60_000 }, async () => {
    const page = await newPage();
    await page.goto(`${dashboard!.url}/workers`);
    await page.getByTestId('worker-row').filter({ hasText: 'layout-worker' }).filter({ hasText: 'connected' }).waitFor({ timeout: 15_000 });
    await page.getByTestId('worker-row').filter({ hasText: 'gpu-node-07' }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(OUT, 'layout-workers.png'), fullPage: true });
    const headers = (await page.getByTestId('workers-table').locator('thead th').allTextContents()).map((t) => t.trim().toLowerCase());
    const deviceCol = headers.indexOf('device');
    expect(deviceCol).toBeGreaterThanOrEqual(0);
    const rows = await page.getByTestId('worker-row').all();
    expect(rows.length).toBe(2);
    for (const row of rows) {
      const badge = (await row.locator('.badge').boundingBox())!;
      // The device text as drawn, line by line (a cell's box is wider than its text).
      const lines = await row.locator(`td:nth-child(${deviceCol + 1})`).evaluate((td) => {
        const r = document.createRange();
        r.selectNodeContents(td);
        return [...r.getClientRects()].map((b) => ({ x: b.x, y: b.y, width: b.width, height: b.height }));
      });
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(overlaps(line, badge), `device text ${JSON.stringify(line)} under the badge ${JSON.stringify(badge)}`).toBe(false);
      const all = await row.locator('td').evaluateAll((tds) =>
        tds.map((td) => {
          const r = document.createRange();
          r.selectNodeContents(td);
          const b = r.getBoundingClientRect();
          const c = td.getBoundingClientRect();
          return { text: td.textContent ?? '', overflows: b.width > 0 && (b.x < c.x - 0.5 || b.x + b.width > c.x + c.width + 0.5) };
        }),
      );
      for (const cell of all) expect(cell.overflows, `"${cell.text}" stays inside its cell`).toBe(false);
    }
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});

describe('every page at 1280×800 and 1920×1080', () => {
  /** What must hold on any page: nothing leaves its card, no sideways scroll, no two texts of a plot on top of each other. */
  async function checkPage(page: Page, width: number): Promise<void> {
    const out = await page.locator('.card').evaluateAll((cards) =>
      cards.flatMap((card) => {
        const c = card.getBoundingClientRect();
        return [...card.querySelectorAll('svg.plot, .table-wrap, .legend, h1, h2, h3, .actions, .export-tools')]
          .map((el) => ({ el: `${el.tagName.toLowerCase()} ${(el.getAttribute('aria-label') ?? el.textContent ?? '').slice(0, 50)}`, r: el.getBoundingClientRect() }))
          .filter(({ r }) => r.width > 0 && (r.left < c.left - 0.5 || r.right > c.right + 0.5))
          .map(({ el }) => el);
      }),
    );
    expect(out, 'nothing overflows its card').toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth), 'the page does not scroll sideways').toBeLessThanOrEqual(width);
    const clashes = await page.locator('svg.plot').evaluateAll((svgs) =>
      svgs.flatMap((svg) => {
        const texts = [...svg.querySelectorAll('text')].map((t) => ({ s: t.textContent ?? '', r: t.getBoundingClientRect() })).filter((t) => t.r.width > 0 && t.s.trim());
        const hits: string[] = [];
        for (let i = 0; i < texts.length; i++)
          for (let j = i + 1; j < texts.length; j++) {
            const [a, b] = [texts[i]!.r, texts[j]!.r];
            // A pixel of slack: neighbouring tick labels may touch.
            if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) hits.push(`${svg.getAttribute('aria-label')?.split(':')[0]}: "${texts[i]!.s}" and "${texts[j]!.s}"`);
          }
        return hits;
      }),
    );
    expect(clashes, 'no text of a plot overlaps another').toEqual([]);
  }

  for (const size of [
    { width: 1280, height: 800 },
    { width: 1920, height: 1080 },
  ]) {
    it(`sweeps, the demo's sweep page, leaderboard, compare (GroupReduce against SVD, paired), a trial and the workers at ${size.width}×${size.height}`, { timeout: 180_000 }, async () => {
      const trials = (await coordinator!.store.analysisTrials(sweeps.demo, { curves: false }))!;
      const key = (m: string) => trials.find((t) => t.method === m)!.configKey;
      const gr = trials.find((t) => t.method === 'groupreduce')!;
      const pages: [string, string, string][] = [
        ['sweeps', '/', '[data-testid="sweeps-table"]'],
        ['sweep', `/sweeps/${sweeps.demo}`, '[data-testid="importance-chart"] svg'],
        ['leaderboard', `/leaderboard?sweep=${sweeps.demo}`, '[data-testid="pareto-chart"] svg'],
        ['compare', `/compare?sweep=${sweeps.demo}&c=${key('svd')}&c=${key('groupreduce')}`, '[data-testid="compare-pair"]'],
        ['trial', `/trials/${gr.id}`, '[data-testid="notes"]'],
        ['workers', '/workers', '[data-testid="worker-row"]'],
      ];
      const page = await openPage(browser!, pageErrors, size);
      for (const [name, url, ready] of pages) {
        await page.goto(`${dashboard!.url}${url}`);
        await page.locator(ready).first().waitFor({ timeout: 30_000 });
        await page.waitForTimeout(300);
        await page.screenshot({ path: path.join(OUT, `layout-${name}-${size.width}.png`), fullPage: true });
        await checkPage(page, size.width);
      }
      // The demo's GroupReduce against its SVD: paired over their three seeds, with an interval.
      await page.goto(`${dashboard!.url}/compare?sweep=${sweeps.demo}&c=${key('svd')}&c=${key('groupreduce')}`);
      const pair = page.getByTestId('compare-pair');
      await pair.waitFor({ timeout: 30_000 });
      expect(await pair.locator('td').nth(1).textContent()).toBe('3');
      expect(await pair.getByTestId('pair-valid').textContent()).toMatch(/^[+−]\d+\.\d\d \[[+−]\d+\.\d\d, [+−]\d+\.\d\d\]$/);
      expect(pageErrors).toEqual([]);
      await page.close();
    });
  }
});

