// A pruned sweep trained for real: two worker agents and a coordinator, ASHA with promotion on a
// tiny PTB model. Trials wait at each judged validation point for the verdict, pause at rungs
// (their resume checkpoints stored on the coordinator), and promoted ones resume on whichever
// agent claims them. A resumed trial's curve, stitched from its attempts, is the curve of the same
// trial trained straight through: bit for bit on one backend (the resume checkpoint restores
// weights, optimizer moments, the dropout stream, the LSTM state and data position, the step).
import { afterAll, describe, expect, it } from 'vitest';
import type { TrialWithCurves } from '@lmsweep/db';
import { startCoordinator, type Coordinator } from '../../coordinator/src/server.ts';
import { launch, until } from '../../coordinator/test/helpers.ts';
import { startWorker, type WorkerHandle } from '../src/agent.ts';

const TINY = 'dataset: { name: ptb, vocabSize: 200 }\nmodel: { embedding: 8, hidden: 8, layers: 1, dropout: 0.1 }\ntraining: { batchSize: 4, unroll: 5, optimizer: adam }\nbudget: { maxSteps: 90, evalEvery: 10, evalTokens: 400 }';
const LRS = [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1];
let c: Coordinator;
const workers: WorkerHandle[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await c?.close();
});

/** A trial's points of one metric along its curve: each pause's attempt up to where it paused, then the attempt after. */
function stitched(t: TrialWithCurves, name: string): { step: number; value: number }[] {
  const segments = t.segments as { attempt: number; through: number }[];
  const of = (attempt: number) => t.curves.find((k) => k.attempt === attempt && k.name === name)?.points ?? [];
  const out: { step: number; value: number }[] = [];
  let after = -1;
  for (const s of segments) {
    out.push(...of(s.attempt).filter((p) => p.step > after && p.step <= s.through).map((p) => ({ step: p.step, value: p.value })));
    after = s.through;
  }
  if (t.status !== 'paused' && t.status !== 'pruned') out.push(...of(t.attempt).filter((p) => p.step > after).map((p) => ({ step: p.step, value: p.value })));
  return out;
}

describe('a pruned sweep on real workers', () => {
  it('ASHA with promotion: paused trials resume from their checkpoints on any worker, and a resumed curve is the straight run\'s', async () => {
    c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 20_000 });
    const sweep = await launch(c.store, `name: asha\n${TINY}\ngrid: { training.lr: [${LRS.join(', ')}] }\npruner: { type: asha, minSteps: 10, reduction: 3, promotion: true }`);
    for (const name of ['wa', 'wb']) workers.push(await startWorker({ coordinatorUrl: c.url, backend: 'wasm', name, quiet: true }));
    await until('the pruned sweep to end', async () => (await c.store.getSweep(sweep.id))!.status !== 'running', 180_000);
    const { items } = await c.store.listTrials({ sweepId: sweep.id, limit: 100 });
    expect((await c.store.getSweep(sweep.id))!.status).toBe('succeeded');
    expect(items.every((t) => t.status === 'succeeded' || t.status === 'pruned')).toBe(true);
    expect(items.filter((t) => t.status === 'succeeded').length).toBeGreaterThanOrEqual(1);
    expect(items.some((t) => t.status === 'pruned')).toBe(true);
    // The trial promoted furthest: its stitched curve against the same configuration and seed trained straight through.
    const promoted = items.filter((t) => t.promotions > 0).sort((a, b) => (b.steps ?? 0) - (a.steps ?? 0))[0];
    expect(promoted).toBeDefined();
    const resumed = (await c.store.getTrial(promoted!.id))!;
    const lr = (resumed.config as { training: { lr: number } }).training.lr;
    const straight = await launch(c.store, `name: straight\n${TINY}\ngrid: { training.lr: [${lr}] }`);
    await until('the straight run to end', async () => (await c.store.getSweep(straight.id))!.status !== 'running', 120_000);
    const [plain] = (await c.store.listTrials({ sweepId: straight.id })).items;
    expect(plain!.configKey).toBe(resumed.configKey);
    const reference = (await c.store.getTrial(plain!.id))!;
    for (const name of ['valid_ppl', 'train_loss']) {
      const got = stitched(resumed, name);
      const want = stitched(reference, name).filter((p) => p.step <= (resumed.status === 'succeeded' ? Infinity : resumed.steps!));
      expect(got.length).toBeGreaterThan(2);
      expect(got).toEqual(want); // exact: the same backend, the whole training state restored
    }
    if (resumed.status === 'succeeded') expect(resumed.validPpl).toBe(reference.validPpl);
  }, 300_000);
});
