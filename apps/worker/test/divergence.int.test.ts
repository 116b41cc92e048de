// A trial that really diverges, trained by the real agent against a real coordinator over a real
// websocket: its last metric points, the non-finite one included, reach the store, and the API
// serves that point as null with `nonFinite` naming it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '../../coordinator/src/server.ts';
import { launch, until } from '../../coordinator/test/helpers.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { startWorker } from '../src/agent.ts';

let c: Coordinator;
beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 20_000 });
});
afterAll(async () => {
  await c?.close();
});

describe('a diverging trial over the wire', () => {
  it('stores its points up to and including the non-finite one, and fails it as diverged', async () => {
    // Adam at lr 100 without clipping from a wide init: the loss or the perplexity stops being finite within a few steps.
    const sweep = await launch(
      c.store,
      'name: diverges\ndataset: { name: ptb, vocabSize: 200 }\nmodel: { embedding: 8, hidden: 8, layers: 1, initScale: 1 }\ntraining: { batchSize: 4, unroll: 5, lr: 100, clip: 1000000, optimizer: adam }\nbudget: { maxSteps: 60, evalEvery: 2, evalTokens: 200 }\nmaxAttempts: 2',
    );
    const w = await startWorker({ coordinatorUrl: c.url, backend: 'wasm', quiet: true, name: 'diverger', maxTrials: 1 });
    await w.done;
    const [t] = (await c.store.listTrials({ sweepId: sweep.id })).items;
    expect(t).toMatchObject({ status: 'failed', attempt: 1 });
    const m = /diverged at step (\d+): (loss|gradient norm|validation perplexity|test perplexity) is (NaN|Infinity|-Infinity)/.exec(t!.error ?? '');
    expect(m, t!.error ?? 'no error').not.toBeNull();
    const [, step, what, value] = m!;
    const name = what === 'validation perplexity' ? 'valid_ppl' : what === 'test perplexity' ? 'test_ppl' : 'train_loss';

    // The store holds the curve through the step where it diverged, that point last and not finite.
    await until('the metrics to be stored', async () => ((await c.store.getTrial(t!.id))!.curves.length > 0), 10_000);
    const stored = (await c.store.getTrial(t!.id))!;
    const curve = stored.curves.find((cv) => cv.attempt === 1 && cv.name === name)!;
    expect(curve, `no ${name} curve: ${stored.curves.map((cv) => cv.name).join(', ')}`).toBeDefined();
    const last = curve.points.at(-1)!;
    expect(last.step).toBe(Number(step));
    expect(String(last.value)).toBe(value);
    // …after the finite points that came before it (training loss is logged every 3 steps here, validation every 2).
    const finite = stored.curves.flatMap((cv) => cv.points).filter((p) => Number.isFinite(p.value));
    if (Number(step) > 3) expect(finite.length).toBeGreaterThan(0);
    for (const p of finite) expect(p.step).toBeLessThanOrEqual(Number(step));

    // The API says which non-finite value it was (JSON itself cannot).
    const api = await apiClient(c.url).trials.get.query({ id: t!.id });
    const served = api.curves.find((cv) => cv.attempt === 1 && cv.name === name)!.points.at(-1)!;
    expect(served).toMatchObject({ step: Number(step), value: null, nonFinite: value });
  });
});
