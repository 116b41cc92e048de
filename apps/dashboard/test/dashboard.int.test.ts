// The dashboard end to end in a real browser: a coordinator (PGlite in memory) and a worker run
// in this process, the built dashboard runs under `next start`, Chromium drives it.
// Launch with a bad spec (field error shown), then a good one; watch the leaderboard fill.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './browser.ts';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from '../../coordinator/src/server.ts';
import { startWorker } from '../../worker/src/agent.ts';
import { ensureDashboardBuilt, startDashboard, type RunningDashboard } from '../build.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT = path.join(REPO_ROOT, 'test-output');

const BAD_SPEC = `name: browser-test
dataset: { name: ptb, vocabSize: 300 }
model: { embedding: 16, hidden: 16, layers: 1 }
training: { batchSize: 8, unroll: 10 }
budget: { maxSteps: 6, evalTokens: 2000 }
grid: { model.hiden: [8, 16] }
seeds: 2
`;
const GOOD_SPEC = BAD_SPEC.replace('model.hiden', 'model.hidden');

let coordinator: Awaited<ReturnType<typeof startCoordinator>> | undefined;
let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
let dashboard: RunningDashboard | undefined;
let browser: Browser | undefined;
const pageErrors: string[] = [];

const newPage = (): Promise<Page> => openPage(browser!, pageErrors);

// `npm test` builds the dashboard before vitest starts (pretest); this covers running the file alone.
beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  // Build first (≈30 s when sources changed), before the lease clock of anything starts.
  await ensureDashboardBuilt();
  coordinator = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 15_000 });
  // As if Slurm started it (the job id it reports comes from SLURM_* in `lmsweep worker`).
  worker = await startWorker({ coordinatorUrl: coordinator.url, backend: 'wasm', name: 'browser-test-worker', quiet: true, slurmJob: '4242_3' });
  dashboard = await startDashboard({ port: 0, coordinatorUrl: coordinator.url });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await dashboard?.close().catch(() => {});
  await worker?.stop().catch(() => {});
  await coordinator?.close().catch(() => {});
});

describe('dashboard in a browser', () => {
  it('launches a sweep from the editor and ranks its configurations', { timeout: 240_000 }, async () => {
    const page = await newPage();
    await page.goto(`${dashboard!.url}/`);
    const editor = page.getByLabel(/sweep spec/i);
    await editor.waitFor();

    // A misspelt grid parameter: the editor names the field while you type.
    await editor.fill(BAD_SPEC);
    const errors = page.getByTestId('spec-errors');
    await errors.filter({ hasText: 'grid.model.hiden' }).waitFor({ timeout: 15_000 });
    expect(await errors.textContent()).toMatch(/grid\.model\.hiden.*unknown parameter/);
    expect(await page.getByTestId('launch').isDisabled()).toBe(true);

    // Fixed: 2 grid points × 2 seeds.
    await editor.fill(GOOD_SPEC);
    await page.getByTestId('trial-count').filter({ hasText: '4 trials' }).waitFor({ timeout: 15_000 });
    expect(await errors.count()).toBe(0);
    await page.getByTestId('launch').click();
    await page.waitForURL(/\/sweeps\/[^/?#]+$/, { timeout: 15_000 });
    const sweepId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await page.getByRole('heading', { name: /browser-test/ }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="trial-row"]').length === 4, null, { timeout: 15_000 });

    // The leaderboard fills in as trials finish: 2 configurations, each with a finite perplexity
    // aggregated over its 2 seeds.
    await page.getByTestId('open-leaderboard').click();
    await page.waitForURL((u) => u.pathname === '/leaderboard' && u.searchParams.get('sweep') === sweepId, { timeout: 15_000 });
    await page
      .waitForFunction(
        () => {
          const rows = [...document.querySelectorAll('[data-testid="leaderboard-row"]')];
          const cell = (r: Element, id: string) => r.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? '';
          return rows.length === 2 && rows.every((r) => /^\d+\.\d/.test(cell(r, 'valid-ppl')) && cell(r, 'seeds').startsWith('2 '));
        },
        null,
        { timeout: 120_000, polling: 500 },
      )
      .catch(async (e: unknown) => {
        // Say why: what the store holds for this sweep, and what the page showed.
        await page.screenshot({ path: path.join(OUT, 'dashboard-leaderboard-failed.png'), fullPage: true }).catch(() => {});
        const trials = await coordinator!.store.listTrials({ sweepId });
        const summary = trials.items.map((t) => `#${t.ordinal} ${t.status} attempt ${t.attempt} ppl ${t.validPpl} ${t.error ?? ''}`).join('\n');
        const shown = await page.locator('body').innerText({ timeout: 2_000 }).catch(() => '(unreadable)');
        throw new Error(`${(e as Error).message}\ntrials:\n${summary}\npage errors: ${pageErrors.join('; ') || 'none'}\npage: ${shown.slice(0, 2000)}`);
      });
    const ppl = await page.getByTestId('valid-ppl').allTextContents();
    for (const t of ppl) expect(Number.parseFloat(t)).toBeGreaterThan(1);
    const labels = await page.getByTestId('config-label').allTextContents();
    expect(labels.map((l) => l.trim()).sort()).toEqual(['dense hidden 16', 'dense hidden 8']);
    // Exactly one Pareto front mark at least, and the plot has a point per configuration.
    expect(await page.locator('[data-testid="leaderboard-row"] .star').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('[data-testid="pareto-chart"] g.pt').count()).toBe(2);
    // Live updates flow through the dashboard's /trpc proxy (server-sent events).
    await page.getByTestId('stream-state').filter({ hasText: /^live$/ }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(OUT, 'dashboard-leaderboard.png'), fullPage: true });

    // The workers page shows ours, connected, with its Slurm job.
    await page.getByRole('link', { name: 'Workers' }).click();
    await page.getByTestId('worker-row').filter({ hasText: 'browser-test-worker' }).filter({ hasText: 'connected' }).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('worker-slurm').allTextContents()).toEqual(['Slurm 4242_3']);
    await page.getByText(/ago|just now/).first().waitFor();
    await page.screenshot({ path: path.join(OUT, 'dashboard-workers.png'), fullPage: true });

    // The sweep page, finished, with its trials' numbers.
    await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweepId)}`);
    await page.getByTestId('sweep-counts').filter({ hasText: '4 succeeded' }).waitFor({ timeout: 30_000 });
    // (its trials and its leaderboard load on their own: wait for them before the picture)
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="trial-row"]').length === 4 && document.querySelectorAll('[data-testid="leaderboard-row"]').length === 2, null, { timeout: 30_000 });
    await page.screenshot({ path: path.join(OUT, 'dashboard-sweep.png'), fullPage: true });

    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('tells a compression trial\'s story: its baseline, each compressed matrix, perplexity before and after fine-tuning', { timeout: 180_000 }, async () => {
    const yaml = [
      'name: browser-compress',
      'dataset: { name: ptb, vocabSize: 360 }',
      'model: { embedding: 40, hidden: 40, layers: 1 }',
      'training: { batchSize: 8, unroll: 10, optimizer: adam, lr: 0.01 }',
      'budget: { maxSteps: 6, evalTokens: 2000 }',
      'compress: { rate: 4, finetune: { maxSteps: 3 } }',
      'grid: { method: [svd] }',
    ].join('\n');
    const spec = parseSweepSpec(yaml);
    const sweep = await coordinator!.store.createSweep({ name: spec.name, spec, specText: yaml, plans: expandSweep(spec) });
    const done = async () => (await coordinator!.store.getSweep(sweep.id))?.status !== 'running';
    for (const end = Date.now() + 150_000; !(await done()); ) {
      if (Date.now() > end) throw new Error('the compression sweep did not finish');
      await new Promise((r) => setTimeout(r, 250));
    }
    const { items } = await coordinator!.store.listTrials({ sweepId: sweep.id });
    expect(items.map((t) => [t.method, t.status])).toEqual([['dense', 'succeeded'], ['svd', 'succeeded']]);
    const page = await newPage();
    await page.goto(`${dashboard!.url}/trials/${encodeURIComponent(items[1]!.id)}`);
    const card = page.getByTestId('compression');
    await card.waitFor({ timeout: 15_000 });
    const text = await card.innerText();
    expect(text).toMatch(new RegExp(`baseline trial ${items[0]!.id.slice(0, 6)}`));
    expect(text).toMatch(/embedding\s+360×40/);
    expect(text).toMatch(/softmax\s+360×40/);
    expect(text).toMatch(/4\.00×/);
    expect(text).toMatch(/after compression/i); // dt labels are upper-cased by CSS
    expect(text).toMatch(/after fine-tuning \(3 steps\)/i);
    // The baseline link leads to the dense trial.
    await page.getByRole('link', { name: /baseline trial/ }).click();
    await page.waitForURL((u) => u.pathname === `/trials/${items[0]!.id}`, { timeout: 15_000 });
    await page.getByRole('heading', { name: /Trial #0/ }).waitFor();
    await page.goBack();
    await card.waitFor();
    await page.screenshot({ path: path.join(OUT, 'dashboard-compression-trial.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('compares GroupReduce with SVD as the demo runs them: ticked on the leaderboard, what differs, their curves, and the difference paired over their two seeds', { timeout: 240_000 }, async () => {
    const yaml = [
      'name: browser-compare',
      'dataset: { name: ptb, vocabSize: 360 }',
      'model: { embedding: 40, hidden: 40, layers: 1 }',
      'training: { batchSize: 8, unroll: 10, optimizer: adam, lr: 0.01 }',
      'budget: { maxSteps: 6, evalTokens: 2000, evalEvery: 3 }',
      'compress: { rate: 4, blocks: 5, finetune: { maxSteps: 4, evalEvery: 2 } }',
      'grid: { method: [svd, groupreduce] }',
      'seeds: 2',
    ].join('\n');
    const spec = parseSweepSpec(yaml);
    const sweep = await coordinator!.store.createSweep({ name: spec.name, spec, specText: yaml, plans: expandSweep(spec) });
    for (const end = Date.now() + 200_000; (await coordinator!.store.getSweep(sweep.id))?.status === 'running'; ) {
      if (Date.now() > end) throw new Error('the compare sweep did not finish');
      await new Promise((r) => setTimeout(r, 250));
    }
    const { items } = await coordinator!.store.listTrials({ sweepId: sweep.id });
    expect(items.every((t) => t.status === 'succeeded')).toBe(true);
    const page = await newPage();
    await page.goto(`${dashboard!.url}/leaderboard?sweep=${encodeURIComponent(sweep.id)}`);
    await page.getByTestId('leaderboard-row').first().waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('compare-hint').textContent()).toMatch(/tick 2–8/);
    for (const name of [/^compare svd/i, /^compare groupreduce/i]) await page.getByRole('checkbox', { name }).check();
    await page.getByTestId('compare-open').click();
    await page.waitForURL((u) => u.pathname === '/compare', { timeout: 15_000 });
    const pair = page.getByTestId('compare-pair');
    await pair.waitFor({ timeout: 15_000 });
    const fields = await page.getByTestId('compare-field').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(fields[0]).toEqual(['method', 'svd', 'groupreduce']);
    expect(fields.every((f) => f[1] !== f[2]), 'only the fields that differ').toBe(true);
    expect(await pair.locator('td').nth(1).textContent()).toBe('2');
    // Two shared seeds: the mean difference with its interval, [lo, hi].
    expect(await pair.getByTestId('pair-valid').textContent()).toMatch(/^[+−]?\d+\.\d\d \[[+−]?\d+\.\d\d, [+−]?\d+\.\d\d\]$/);
    const api = await coordinator!.store.analysisTrials(sweep.id, { curves: false });
    const ppl = (m: string, seed: number) => api!.find((t) => t.method === m && t.seed === seed)!.validPpl!;
    const mean = (ppl('groupreduce', 0) - ppl('svd', 0) + ppl('groupreduce', 1) - ppl('svd', 1)) / 2;
    expect(Number((await pair.getByTestId('pair-valid').textContent())!.split(' ')[0]!.replace('−', '-'))).toBeCloseTo(mean, 2);
    expect(await page.getByTestId('difference-chart').locator('svg').getAttribute('aria-label')).toMatch(/^Paired difference in validation perplexity against svd/i);
    expect(await page.getByTestId('compare-curves').locator('path[stroke-width="1.1"]').count()).toBe(4);
    await page.screenshot({ path: path.join(OUT, 'dashboard-compare.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('says "coordinator unreachable" when the coordinator is down, and nothing of where it is or why', { timeout: 90_000 }, async () => {
    // A dashboard pointed at a port nobody listens on; its server log is where the details go.
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const log: string[] = [];
    const dead = await startDashboard({ port: 0, coordinatorUrl: `http://127.0.0.1:${closed}`, log: (l) => log.push(l) });
    try {
      const res = await fetch(`${dead.url}/trpc/health`);
      expect(res.status).toBe(502);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: { message: 'coordinator unreachable', code: -32603, data: { code: 'BAD_GATEWAY', httpStatus: 502, lmsweepCode: 'COORDINATOR_UNREACHABLE' } } });
      expect(text).not.toMatch(new RegExp(`127\\.0\\.0\\.1|${closed}|ECONNREFUSED|fetch failed`));
      await expect.poll(() => log.join('\n'), { timeout: 10_000 }).toMatch(new RegExp(`coordinator unreachable target="http://127\\.0\\.0\\.1:${closed}" error="fetch failed: .*ECONNREFUSED`));
      const page = await newPage();
      await page.goto(`${dead.url}/workers`);
      await page.getByRole('alert').filter({ hasText: /coordinator unreachable/i }).waitFor({ timeout: 15_000 });
      await page.screenshot({ path: path.join(OUT, 'dashboard-unreachable.png'), fullPage: true });
      await page.close();
    } finally {
      await dead.close();
    }
    // A coordinator URL with a password in it is refused as configuration, and the password shown to no one.
    const secret = await startDashboard({ port: 0, coordinatorUrl: 'http://admin:hunter2@127.0.0.1:9' });
    try {
      const res = await fetch(`${secret.url}/trpc/health`);
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(text).toMatch(/^dashboard configuration: LMSWEEP_URL: must not carry a user name or password/);
      expect(text).not.toMatch(/hunter2|admin/);
    } finally {
      await secret.close();
    }
  });
  it('pages a leaderboard of 250 configurations: 100 rows a page, every one of them in the plot', { timeout: 120_000 }, async () => {
    // Finished through the store, not trained: stop the worker so that it claims none of them.
    await worker!.stop();
    const store = coordinator!.store;
    const spec = parseSweepSpec({ name: 'browser-paging', dataset: { name: 'ptb', vocabSize: 300 }, grid: { 'training.lr': Array.from({ length: 250 }, (_, i) => Number((0.01 * (i + 1)).toFixed(2))) }, seeds: 1 });
    const sweep = await store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec) });
    const claimed = (await store.claimMany(Array.from({ length: 250 }, (_, i) => `paging-${i}`), 60_000)).filter((c) => c !== null);
    expect(claimed).toHaveLength(250);
    const outcomes = await store.completeMany(
      claimed.map((c, i) => ({
        trialId: c!.id,
        workerId: `paging-${i}`,
        attempt: c!.attempt,
        result: { params: 1000 + 10 * i, paramsByLayer: { all: 1000 + 10 * i }, validPpl: 400 - i + (i % 7) * 3, testPpl: 410 - i, steps: 1, tokens: 1, seconds: 0, tokensPerSecond: 0, vocabSize: 300, backend: 'test' },
      })),
    );
    expect(outcomes.every((o) => o === 'ok')).toBe(true);

    const page = await newPage();
    await page.goto(`${dashboard!.url}/leaderboard?sweep=${encodeURIComponent(sweep.id)}`);
    await page.getByText('250 configurations with finished trials').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('leaderboard-row').count()).toBe(100);
    expect(await page.locator('[data-testid="pareto-chart"] g.pt').count()).toBe(250);
    // (the rank cell: a sweep's leaderboard starts each row with its compare checkbox)
    const firstRank = async () => (await page.getByTestId('leaderboard-row').first().locator('td.num').first().textContent())?.trim();
    expect(await firstRank()).toBe('1');
    await page.getByText('1–100 of 250').waitFor();
    // (the pager moves at once; the rows, numbered by the page they came with, when it has arrived)
    await page.getByRole('button', { name: 'Next →' }).click();
    await expect.poll(firstRank, { timeout: 15_000 }).toBe('101');
    expect(await page.getByText('101–200 of 250').count()).toBe(1);
    await page.getByRole('button', { name: 'Next →' }).click();
    await expect.poll(firstRank, { timeout: 15_000 }).toBe('201');
    expect(await page.getByTestId('leaderboard-row').count()).toBe(50);
    expect(await page.locator('[data-testid="pareto-chart"] g.pt').count()).toBe(250);
    // (from the top: a full-page picture of a scrolled page draws the sticky top bar mid-page)
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, 'dashboard-leaderboard-paged.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
  it('shows a flagged seed (far below every other seed): a marker on its leaderboard row with the reason, and on its trial page', { timeout: 120_000 }, async () => {
    // Finished through the store, not trained (stopping the worker again is harmless).
    await worker!.stop();
    const store = coordinator!.store;
    const spec = parseSweepSpec({ name: 'browser-flagged', dataset: { name: 'ptb', vocabSize: 300 }, seeds: 3 });
    const sweep = await store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec) });
    const claimed = (await store.claimMany(['flag-0', 'flag-1', 'flag-2'], 60_000)).filter((c) => c !== null);
    expect(claimed.map((c) => c.sweepId)).toEqual([sweep.id, sweep.id, sweep.id]);
    const ppl = new Map([[0, 100], [1, 104], [2, 1.5]]);
    const outcomes = await store.completeMany(
      claimed.map((c, i) => ({
        trialId: c.id,
        workerId: `flag-${i}`,
        attempt: c.attempt,
        result: { params: 5000, paramsByLayer: { all: 5000 }, validPpl: ppl.get(c.seed)!, testPpl: ppl.get(c.seed)! * 1.02, steps: 1, tokens: 1, seconds: 0, tokensPerSecond: 0, vocabSize: 300, backend: 'test' },
      })),
    );
    expect(outcomes.every((o) => o === 'ok')).toBe(true);
    const fake = claimed.find((c) => c.seed === 2)!;
    expect((await store.getTrial(fake.id))!.flag).toMatch(/^validPpl 1\.5 is under/);

    const page = await newPage();
    await page.goto(`${dashboard!.url}/leaderboard?sweep=${encodeURIComponent(sweep.id)}`);
    const row = page.getByTestId('leaderboard-row');
    await row.first().waitFor({ timeout: 15_000 });
    expect(await row.count()).toBe(1);
    // The mean is over seeds 0 and 1; seed 2 is marked, with the reason on hover.
    expect((await row.getByTestId('valid-ppl').textContent())?.trim()).toMatch(/^102\.0/);
    const seeds = row.getByTestId('seeds');
    expect((await seeds.innerText()).replace(/\s+/g, ' ')).toMatch(/^2 \(0, 1\) ?⚑ 2$/);
    const marker = seeds.getByTestId('flagged-seeds');
    expect(await marker.getAttribute('title')).toMatch(/^one seed left out of the mean:\nseed 2: validPpl 1\.5 is under 0\.5× every other seed/);
    await marker.hover();
    await page.screenshot({ path: path.join(OUT, 'dashboard-leaderboard-flagged.png'), fullPage: true });
    // The sweep page marks the trial too.
    await page.goto(`${dashboard!.url}/sweeps/${encodeURIComponent(sweep.id)}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="trial-row"]').length === 3, null, { timeout: 15_000 });
    expect(await page.getByTestId('trial-flag-mark').count()).toBe(1);
    expect(await page.getByTestId('trial-flag-mark').getAttribute('title')).toMatch(/validPpl 1\.5 is under/);
    await page.screenshot({ path: path.join(OUT, 'dashboard-sweep-flagged.png'), fullPage: true });
    // Its trial page says why it is left out.
    await page.goto(`${dashboard!.url}/leaderboard?sweep=${encodeURIComponent(sweep.id)}`);
    await page.getByTestId('flagged-seeds').getByRole('link', { name: /flagged seed 2/ }).click();
    await page.waitForURL((u) => u.pathname === `/trials/${fake.id}`, { timeout: 15_000 });
    const box = page.getByTestId('trial-flag');
    await box.waitFor({ timeout: 15_000 });
    expect(await box.innerText()).toMatch(/Flagged: left out of the leaderboard.s mean\s+validPpl 1\.5 is under 0\.5× every other seed of its configuration \(the lowest of them: 100\)\. The result is stored/);
    await page.screenshot({ path: path.join(OUT, 'dashboard-trial-flagged.png'), fullPage: true });
    // An unflagged seed's page has no such box.
    await page.goto(`${dashboard!.url}/trials/${encodeURIComponent(claimed.find((c) => c.seed === 0)!.id)}`);
    await page.getByRole('heading', { name: /Trial #/ }).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('trial-flag').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
