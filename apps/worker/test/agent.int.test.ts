// The real worker agent against a real coordinator: clean stop releases the trial; a coordinator
// restart is survived (reconnect with backoff, outbox delivered, exactly one result per trial).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
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
});
