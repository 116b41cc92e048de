// End to end, as a user runs it: coordinator and worker as separate processes (the CLI), a sweep
// created through the tRPC client, real training on PTB, results read back through the CLI.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lstmLmParamCount } from '@lmsweep/nn';
import { apiClient } from '../src/client.ts';

const BIN = path.resolve(import.meta.dirname, '../bin/lmsweep.js');
const run = promisify(execFile);
const procs: ChildProcess[] = [];
let url = '';

function start(args: string[]): ChildProcess {
  const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LMSWEEP_LOG_LEVEL: 'warn' } });
  procs.push(p);
  return p;
}

beforeAll(async () => {
  const coord = start(['coordinator', '--port', '0', '--database', 'memory://']);
  url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    coord.stdout!.on('data', (d) => {
      buf += d;
      const m = /listening on (http:\/\/\S+)/.exec(buf);
      if (m) resolve(m[1]!);
    });
    coord.once('exit', (code) => reject(new Error(`coordinator exited ${code}`)));
  });
  start(['worker', '--coordinator', url, '--backend', 'wasm', '--threads', '1', '--name', 'e2e-worker', '--quiet']);
});

afterAll(async () => {
  for (const p of procs) p.kill('SIGINT');
  await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : null)));
});

describe('end to end', () => {
  it('runs a sweep: claimed over the websocket, trained, persisted, ranked', async () => {
    const api = apiClient(url);
    const spec = {
      name: 'e2e',
      dataset: { name: 'ptb', vocabSize: 300 },
      model: { embedding: 16, hidden: 16, layers: 1 },
      training: { batchSize: 8, unroll: 10 },
      budget: { maxSteps: 15, evalTokens: 2000 },
      grid: { 'model.hidden': [8, 16] },
      seeds: 2,
      baseline: { 'model.hidden': 16 },
    };
    const sweep = await api.sweeps.create.mutate({ spec });
    expect(sweep.trials).toBe(4);
    const deadline = Date.now() + 150_000;
    while ((await api.sweeps.get.query({ id: sweep.id })).status === 'running') {
      if (Date.now() > deadline) throw new Error('sweep did not finish in time');
      await new Promise((r) => setTimeout(r, 500));
    }
    const { items } = await api.trials.list.query({ sweepId: sweep.id });
    expect(items.map((t) => t.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    for (const t of items) {
      const hidden = (t.config as { model: { hidden: number } }).model.hidden;
      const exact = lstmLmParamCount(300, { embedding: 16, hidden, layers: 1, dropout: 0, initScale: 0.1 }).total;
      expect(t.params).toBe(exact);
      expect(Number.isFinite(t.validPpl)).toBe(true);
      expect(t.validPpl!).toBeGreaterThan(1);
      expect(t.validPpl!).toBeLessThan(300);
      expect(t.testPpl!).toBeLessThan(300);
    }
    const detail = await api.trials.get.query({ id: items[0]!.id });
    expect(detail.curves.some((c) => c.name === 'train_loss' && c.points.length > 0)).toBe(true);

    // The CLI's script output: one stable JSON object per line.
    const { stdout } = await run(process.execPath, [BIN, 'trials', '--sweep', sweep.id, '--json', '--coordinator', url]);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    for (const l of lines) for (const k of ['id', 'sweepId', 'status', 'method', 'config', 'seed', 'attempt', 'params', 'validPpl', 'testPpl']) expect(l).toHaveProperty(k);
    const lb = (await run(process.execPath, [BIN, 'leaderboard', '--sweep', sweep.id, '--json', '--coordinator', url])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lb).toHaveLength(2);
    expect(lb.every((e) => e.seeds.length === 2)).toBe(true);
    const baseline = lb.find((e) => e.isBaseline);
    expect(baseline.compression).toBe(1);
    const small = lb.find((e) => !e.isBaseline);
    expect(small.compression).toBeCloseTo(baseline.params / small.params, 10);
    // The dashboard's paged form: one configuration a page, every one in the plot's columns.
    const list = await api.leaderboard.list.query({ sweepId: sweep.id });
    const pages = await Promise.all([0, 1].map((offset) => api.leaderboard.page.query({ sweepId: sweep.id, offset, limit: 1 })));
    expect(pages.map((p) => [p.total, p.offset, p.entries.length])).toEqual([[2, 0, 1], [2, 1, 1]]);
    expect(pages.map((p) => p.entries[0]!.configKey)).toEqual(list.map((e) => e.configKey));
    expect(pages[0]!.plot.params).toEqual(list.map((e) => e.params));
    expect(pages[0]!.plot.methods.length).toBeGreaterThan(0);
    await expect(api.leaderboard.page.query({ sweepId: sweep.id, limit: 0 })).rejects.toThrow(/limit/);
    const workers = (await run(process.execPath, [BIN, 'workers', '--json', '--coordinator', url])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(workers.find((w) => w.name === 'e2e-worker')).toMatchObject({ backend: expect.stringMatching(/wasm|cpu/), connected: true });
  });

  it('refuses a bad spec at launch, naming the field', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-spec-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'name: bad\ndataset: { name: no-such-corpus }\ngrid: { model.hiden: [1, 2] }\n');
    const err = await run(process.execPath, [BIN, 'launch', file, '--coordinator', url]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain('grid.model.hiden: unknown parameter');
    writeFileSync(file, 'name: bad\ndataset: { name: no-such-corpus }\n');
    const err2 = await run(process.execPath, [BIN, 'launch', file, '--coordinator', url]).then(() => null, (e: { stderr: string }) => e);
    expect(err2?.stderr).toMatch(/dataset\.name: dataset "no-such-corpus" not found/);
    const ok = await run(process.execPath, [BIN, 'launch', path.resolve(import.meta.dirname, '../../../examples/smoke.yaml'), '--json', '--coordinator', url]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name: 'smoke', trials: 12 });
  });
});
