// `lmsweep report` through the real bin against a real coordinator: a compression sweep (dense
// baseline, its dense + fine-tune control, SVD and GroupReduce at rate 4, three seeds) whose
// trials are finished through the store with results whose paired differences are known; the
// Markdown and HTML reports carry them, the figures are SVG, and the HTML page renders in Chromium;
// and a sampled sweep's report (a search over the width) ranks what it sampled.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairedDifference } from '@lmsweep/algorithms';
import { startCoordinator, type Coordinator } from '@lmsweep/coordinator';
import { expandSweep, parseSweepSpec, prepareSweep } from '@lmsweep/sweep';
import { putArtifact } from '@lmsweep/db/testing';
import { launchChromium, openPage } from '../../../apps/dashboard/test/browser.ts';

const BIN = path.resolve(import.meta.dirname, '../bin/lmsweep.js');
const SPEC = `name: report
dataset: { name: ptb, vocabSize: 2000 }
model: { embedding: 128, hidden: 128, layers: 1 }
budget: { maxSteps: 300 }
compress: { target: both, rate: 4, blocks: 4, finetune: { maxSteps: 100, lr: 0.001, evalEvery: 50 }, control: true }
grid: { method: [dense, svd, groupreduce] }
seeds: 3
baseline: { method: dense }
reference:
  source: A made-up table
  rows:
    - { label: SVD, method: svd, where: { compress.rate: 4 }, testPpl: 161.44 }
    - { label: GroupReduce at rate 5, method: groupreduce, where: { compress.rate: 5 }, testPpl: 127.26 }
`;
/** Validation perplexity by method and seed: GroupReduce − SVD is −5, −6, −7 over seeds 0, 1, 2. */
const VALID: Record<string, (seed: number) => number> = {
  dense: (s) => 150 + s,
  'dense-finetune': (s) => 140 + s,
  svd: (s) => 160 + 2 * s,
  groupreduce: (s) => 155 + s,
};
const PARAMS: Record<string, number> = { dense: 640_000, 'dense-finetune': 640_000, svd: 384_000, groupreduce: 384_000 };

let c: Coordinator;
let sweepId = '';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-report-'));

function lmsweep(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '--coordinator', c.url], { timeout: 60_000, env: { ...process.env, LMSWEEP_LOG_LEVEL: 'silent' } }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

function resultOf(method: string, seed: number) {
  const validPpl = VALID[method]!(seed);
  const base = { params: PARAMS[method]!, paramsByLayer: { all: PARAMS[method]! }, validPpl, testPpl: validPpl - 5, steps: 300, tokens: 120_000, seconds: 60, tokensPerSecond: 2000, vocabSize: 2000, backend: 'test' };
  if (method === 'dense') return base;
  const finetune = { baselineTrialId: 'x', steps: 100, lr: 0.001, validPplBefore: validPpl + 30, testPplBefore: validPpl + 25, validPplLast: validPpl + 1, testPplLast: validPpl - 4, bestStep: 50 };
  if (method === 'dense-finetune') return { ...base, steps: 100, tokens: 40_000, finetune };
  const refinement = method === 'groupreduce' ? { refinement: { moved: [12, 3, 0], werr: [0.25, 0.21, 0.2], kept: 2 } } : {};
  const matrix = (werr: number) => ({ rows: 2000, cols: 128, params: 64_000, rate: 4, werr, error: werr * 1.5, ranks: method === 'svd' ? [32] : [60, 30, 20, 10], seconds: 1, ...refinement });
  return {
    ...base,
    steps: 100,
    tokens: 40_000,
    finetune,
    compression: { baselineTrialId: 'x', baselineParams: 640_000, baselineValidPpl: 150 + seed, matrices: { embedding: matrix(0.2), softmax: matrix(0.3) }, validPplBefore: validPpl + 30, testPplBefore: validPpl + 25, finetuneSteps: 100 },
  };
}

beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', log: pino({ level: 'silent' }) });
  const spec = parseSweepSpec(SPEC);
  sweepId = (await c.store.createSweep({ name: spec.name, spec, specText: SPEC, plans: expandSweep(spec) })).id;
  // Baselines first (their checkpoints are what the others start from), then the rest.
  for (let round = 0; round < 6; round++) {
    const claimed = (await c.store.claimMany(['w1', 'w2', 'w3', 'w4'], 60_000)).filter((t) => t !== null);
    if (!claimed.length) break;
    for (const [i, t] of claimed.entries()) {
      const w = `w${i + 1}`;
      await putArtifact(c.store, t.id, w, t.attempt, 'checkpoint', new Uint8Array([1]));
      const v = VALID[t.method]!(t.seed);
      await c.store.addMetrics(t.id, w, t.attempt, [50, 100].map((step, k) => ({ step, epoch: 0, name: 'valid_ppl', value: v + 20 - 20 * k })));
    }
    const outcomes = await c.store.completeMany(claimed.map((t, i) => ({ trialId: t.id, workerId: `w${i + 1}`, attempt: t.attempt, result: resultOf(t.method, t.seed) })));
    expect(outcomes.every((o) => o === 'ok')).toBe(true);
  }
  expect((await c.store.listTrials({ sweepId, status: 'succeeded' })).total).toBe(12);
}, 120_000);

afterAll(async () => {
  await c?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('lmsweep report', () => {
  it('Markdown: configurations with intervals, paired comparisons against baseline, control and SVD with Holm-corrected p, fine-tuning, ranks, figures', async () => {
    const out = path.join(tmp, 'md');
    const r = await lmsweep(['report', sweepId, '--out', out]);
    expect(r.stderr).toMatch(/curves 12\/12/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/4 configurations, 6 paired comparisons; wrote .*report\.md/);
    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    // GroupReduce against SVD, seed by seed: −5, −6, −7.
    const d = pairedDifference([155, 156, 157], [160, 162, 164]);
    expect(d.mean).toBe(-6);
    const row = md.split('\n').find((l) => l.startsWith('| ') && l.includes('groupreduce') && l.includes('svd at the same rate'))!;
    expect(row).toContain(`-6.00 [${d.lo.toFixed(2)}, ${d.hi.toFixed(2)}]`);
    // Against its control (140 + s): +15 each seed, no spread: certain.
    const control = md.split('\n').find((l) => l.includes('groupreduce') && l.includes('control: '))!;
    expect(control).toMatch(/\| 3 \| \+15\.00 \[15\.00, 15\.00\] \| < 0\.001 \|/);
    expect(md).toMatch(/Holm-corrected over the 6 comparisons/);
    // Configurations: dense 151 ± t(2)·1/√3.
    expect(md).toMatch(/\| dense \(baseline\) \| 640,000 \| 1\.00× \| 151\.00 ± 2\.48 \| 146\.00 ± 2\.48 \| 3 \|/);
    expect(md).toMatch(/## Fine-tuning: before and after/);
    // Beside the published numbers: SVD's test 157 ± 4.97 against 161.44; nothing of ours at rate 5.
    expect(md).toMatch(/\| SVD \| – \| – \| 161\.44 \| 4\. svd rate 4 \| 384,000 \| 162\.00 ± 4\.97 \| 157\.00 ± 4\.97 \| -4\.44 \|/);
    expect(md).toMatch(/\| GroupReduce at rate 5 \| – \| – \| 127\.26 \| \(no configuration of this sweep\) \|/);
    expect(md).toMatch(/groupreduce[^|]*\| embedding \| 2000×128 \| 4\.00× \| 0\.2000 \| 0\.3000 \| 60, 30, 20, 10 \|/);
    expect(md).toMatch(/groupreduce[^|]*\| softmax \| 12, 3, 0 \| 0\.2500 → 0\.2100 → 0\.2000 \| 2 \|/);
    expect(md).toContain('![Pareto front: parameters against validation perplexity](pareto.svg)');
    expect(md).toContain('```yaml\nname: report');
    expect(md).toContain('](error.svg)');
    for (const f of ['pareto.svg', 'curves.svg', 'error.svg']) {
      const svg = readFileSync(path.join(out, f), 'utf8');
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(svg).toMatch(/<\/svg>$/);
      expect(svg).not.toMatch(/NaN|undefined/);
    }
    expect(readFileSync(path.join(out, 'curves.svg'), 'utf8')).toContain('fine-tuned from the baseline');
  }, 60_000);

  it('a sampled sweep (a search over the width): its sampled configurations ranked, its spec with the search', async () => {
    const { spec, plans, search } = prepareSweep({ name: 'report-search', dataset: { name: 'ptb', vocabSize: 300 }, search: { sampler: 'random', trials: 3, parallel: 3, seed: 4 }, space: { 'model.hidden': { int: [8, 64], step: 8 } }, seeds: 2 });
    const id = (await c.store.createSweep({ name: spec.name, spec, specText: JSON.stringify(spec), plans, search })).id;
    const claimed = (await c.store.claimMany(['s1', 's2', 's3', 's4', 's5', 's6'], 60_000)).filter((t) => t !== null && t.sweepId === id);
    expect(claimed).toHaveLength(6);
    const hidden = (t: { config: unknown }) => (t.config as { model: { hidden: number } }).model.hidden;
    const done = await c.store.completeMany(
      claimed.map((t, i) => ({ trialId: t!.id, workerId: `s${i + 1}`, attempt: t!.attempt, result: { ...resultOf('dense', t!.seed), params: 1000 * hidden(t!), paramsByLayer: { all: 1000 * hidden(t!) }, validPpl: 100 + 400 / hidden(t!) + t!.seed } })),
    );
    expect(done.every((o) => o === 'ok')).toBe(true);
    const out = path.join(tmp, 'search');
    const r = await lmsweep(['report', id, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    const widths = [...new Set(claimed.map((t) => hidden(t!)))].sort((a, b) => b - a);
    // Ranked by perplexity, which falls with the width: widest first, each with its two seeds.
    const rows = md.split('\n').filter((l) => /^\| \d+ \| .*hidden/.test(l));
    expect(rows.map((l) => l.match(/hidden (\d+)/)?.[1])).toEqual(widths.map(String));
    for (const l of rows) expect(l).toMatch(/\| 2 \|$/);
    expect(md).toMatch(/"sampler":"random"/);
  }, 60_000);

  it('HTML: one file with the figures inline; a missing sweep is an error naming it', async () => {
    const out = path.join(tmp, 'html');
    const r = await lmsweep(['report', sweepId, '--format', 'html', '--out', out]);
    expect(r.code).toBe(0);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(existsSync(path.join(out, 'pareto.svg'))).toBe(false);
    // In a browser: no error, both figures drawn, no table wider than the page, the numbers on the Pareto plot apart.
    const browser = await launchChromium();
    try {
      const errors: string[] = [];
      const page = await openPage(browser, errors);
      await page.goto(`file://${path.join(out, 'report.html')}`);
      await page.screenshot({ path: path.resolve(import.meta.dirname, '../../../test-output/report-html.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(await page.locator('svg[aria-label^="Pareto front"] circle.point').count()).toBe(4);
      expect(await page.locator('svg[aria-label^="Validation curves"] polyline').count()).toBe(4);
      // svd and groupreduce, each on embedding and softmax: the weighted error and the words-alike one.
      expect(await page.locator('svg[aria-label^="Error against perplexity"] circle.werr').count()).toBe(4);
      expect(await page.locator('svg[aria-label^="Error against perplexity"] circle.error').count()).toBe(4);
      const wide = await page.evaluate(() => [...document.querySelectorAll('table')].filter((t) => t.getBoundingClientRect().right > document.body.getBoundingClientRect().right + 1).length);
      expect(wide).toBe(0);
      const boxes = await page.locator('svg[aria-label^="Pareto front"] text.point-n').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
      expect(boxes).toHaveLength(4);
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i]!, boxes[j]!];
        expect(a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height, `point numbers ${i} and ${j} overlap`).toBe(false);
      }
    } finally {
      await browser.close();
    }
    const bad = await lmsweep(['report', 'nope', '--out', path.join(tmp, 'bad')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/sweep nope not found/);
  }, 60_000);
});
