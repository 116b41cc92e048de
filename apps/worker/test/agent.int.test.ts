// The real worker agent against a real coordinator: clean stop releases the trial; a coordinator
// restart is survived (reconnect with backoff, outbox delivered, exactly one result per trial).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { getArtifact } from '@lmsweep/db/testing';
import { startCoordinator, type Coordinator } from '../../coordinator/src/server.ts';
import { startWorker } from '../src/agent.ts';
import { until } from '../../coordinator/test/helpers.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-agent-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


async function launch(c: Coordinator, yaml: string) {
  const spec = parseSweepSpec(yaml);
  return c.store.createSweep({ name: spec.name, spec, specText: yaml, plans: expandSweep(spec) });
}

describe('worker agent', () => {
  it('stops cleanly: the running trial goes back to the queue, not lost', async () => {
    // A lease long enough for a loaded machine: an expired lease (reaped, requeued with backoff)
    // would fence the release and make this a different test.
    const c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 60_000 });
    try {
      const sweep = await launch(c, 'name: long\ndataset: { name: ptb, vocabSize: 200 }\nmodel: { embedding: 8, hidden: 8, layers: 1 }\ntraining: { batchSize: 4, unroll: 5 }\nbudget: { maxSteps: 100000 }');
      const w = await startWorker({ coordinatorUrl: c.url, backend: 'wasm', quiet: true });
      await until('the trial to run', async () => (await c.store.listTrials({ sweepId: sweep.id, status: 'running' })).total === 1);
      await w.stop();
      const { items } = await c.store.listTrials({ sweepId: sweep.id });
      expect(items[0]).toMatchObject({ status: 'queued', leaseExpiresAt: null, attempt: 1 });
      // A released trial can be claimed again at once.
      expect(await c.store.claim('someone-else', 1000)).toMatchObject({ id: items[0]!.id });
    } finally {
      await c.close();
    }
  });

  it('survives a coordinator restart: reconnects, delivers, one result per trial', async () => {
    const dataDir = path.join(tmp, 'db');
    let c = await startCoordinator({ port: 0, databaseUrl: dataDir, leaseMs: 20_000 });
    const port = c.port;
    const sweep = await launch(c, 'name: restart\ndataset: { name: ptb, vocabSize: 200 }\nmodel: { embedding: 8, hidden: 8, layers: 1 }\ntraining: { batchSize: 4, unroll: 5 }\nbudget: { maxSteps: 30, evalTokens: 500 }\nseeds: 3');
    const w = await startWorker({ coordinatorUrl: c.url, backend: 'wasm', quiet: true, reconnectMs: { first: 100, max: 400 } });
    try {
      await until('a trial to run', async () => (await c.store.listTrials({ sweepId: sweep.id, status: 'running' })).total === 1);
      await c.close();
      await new Promise((r) => setTimeout(r, 1500)); // the worker trains on, its reports wait in the outbox
      c = await startCoordinator({ port, databaseUrl: dataDir, leaseMs: 20_000 });
      await until('the sweep to finish', async () => (await c.store.getSweep(sweep.id))?.status !== 'running', 90_000);
      const { items } = await c.store.listTrials({ sweepId: sweep.id });
      expect(items.map((t) => t.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      expect(items.every((t) => t.attempt === 1 && Number.isFinite(t.validPpl))).toBe(true);
    } finally {
      await w.stop();
      await c.close();
    }
  });

  it('runs compression trials and their dense + fine-tune control from the baseline trial\'s checkpoint, stored and served by the coordinator', async () => {
    const c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 60_000, workerToken: 'wt' });
    const yaml = [
      'name: compress',
      // 360×40 at rate 4: svd's rank 9 meets it exactly, 5 blocks of 72 words within 1%
      'dataset: { name: ptb, vocabSize: 360 }',
      'model: { embedding: 40, hidden: 40, layers: 1 }',
      'training: { batchSize: 4, unroll: 5, optimizer: adam, lr: 0.01 }',
      'budget: { maxSteps: 30, evalTokens: 500 }',
      'compress: { rate: 4, blocks: 5, control: true, finetune: { maxSteps: 10, evalEvery: 5 } }',
      'grid: { method: [svd, groupreduce] }',
    ].join('\n');
    const sweep = await launch(c, yaml);
    // Two workers: one takes the baseline, the other waits (nothing is claimable until it succeeded).
    const workers = await Promise.all([0, 1].map((i) => startWorker({ coordinatorUrl: c.url, backend: 'wasm', quiet: true, token: 'wt', name: `w${i}` })));
    try {
      await until('the sweep to finish', async () => (await c.store.getSweep(sweep.id))?.status !== 'running', 120_000);
      const { items } = await c.store.listTrials({ sweepId: sweep.id });
      expect(items.map((t) => [t.method, t.status])).toEqual([['dense', 'succeeded'], ['dense-finetune', 'succeeded'], ['svd', 'succeeded'], ['groupreduce', 'succeeded']]);
      const [base, control, ...compressed] = items as [(typeof items)[number], (typeof items)[number], ...typeof items];
      const stored = (await getArtifact(c.store, base.id, 'checkpoint'))!;
      expect(stored.attempt).toBe(1);
      for (const t of compressed) {
        expect(t.parentId).toBe(base.id);
        const r = t.result as { params: number; compression: { baselineTrialId: string; baselineParams: number; baselineValidPpl: number; validPplBefore: number; finetuneSteps: number; matrices: Record<string, { rate: number; params: number; werr: number }> } };
        expect(r.compression.baselineTrialId).toBe(base.id);
        expect(r.compression.baselineParams).toBe(base.params);
        expect(r.compression.baselineValidPpl).toBeCloseTo(base.validPpl!, 6);
        expect(Object.keys(r.compression.matrices).sort()).toEqual(['embedding', 'softmax']);
        for (const m of Object.values(r.compression.matrices)) {
          expect(Math.abs(m.rate / 4 - 1)).toBeLessThan(0.01);
          expect(m.werr).toBeGreaterThan(0);
          expect(m.werr).toBeLessThan(1);
        }
        // embedding and softmax (360×40 each) at rate 4: the model shrinks by 3/4 of them
        const saved = 2 * 360 * 40 - r.compression.matrices['embedding']!.params - r.compression.matrices['softmax']!.params;
        expect(t.params).toBe(base.params! - saved);
        expect(r.compression.finetuneSteps).toBe(10);
        expect(Number.isFinite(r.compression.validPplBefore)).toBe(true);
      }
      // The control: the baseline's checkpoint fine-tuned the same steps at the same rate, uncompressed.
      type Finetuned = { steps: number; compression?: unknown; finetune: { baselineTrialId: string; steps: number; lr: number; validPplBefore: number; validPplLast: number; bestStep: number } };
      const [rc, ...rs] = [control, ...compressed].map((t) => t.result as Finetuned);
      expect(control.parentId).toBe(base.id);
      expect(control.params).toBe(base.params);
      expect(rc!.compression).toBeUndefined();
      expect(rc!.finetune).toMatchObject({ baselineTrialId: base.id, steps: 10, lr: 0.01 });
      expect(rc!.finetune.validPplBefore).toBeCloseTo(base.validPpl!, 6);
      expect(control.validPpl).toBeLessThanOrEqual(rc!.finetune.validPplLast);
      for (const r of rs) {
        expect([r.steps, r.finetune.steps, r.finetune.lr]).toEqual([rc!.steps, rc!.finetune.steps, rc!.finetune.lr]);
        expect(r.finetune.baselineTrialId).toBe(base.id);
      }
      // The checkpoint is served to workers only.
      const url = `${c.url}/artifacts/${base.id}/checkpoint`;
      expect((await fetch(url)).status).toBe(401);
      const res = await fetch(url, { headers: { authorization: 'Bearer wt' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-lmsweep-sha256')).toBe(stored.sha256);
      expect(new Uint8Array(await res.arrayBuffer()).length).toBe(stored.size);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await c.close();
    }
  });
});
