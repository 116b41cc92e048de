import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expectClose } from '@lmsweep/algorithms';
import { type MetricPoint, TrialConfig, TrialResult } from '@lmsweep/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { type Corpus, datasetSearchDirs, loadCorpus, resolveDataset } from './corpus.ts';
import { LstmLm, lstmLmParamCount } from './lstm-lm.ts';
import { nativeKernelsBuilt, nativeKernelsStatus } from './native.ts';
import { writeGrammarCorpus } from './testing.ts';
import { AbortedError, DivergedError, evaluatePerplexity, learningRate, runTrial, trainingPlan } from './train.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'lmsweep-train-'));
let grammar: Corpus;

beforeAll(async () => {
  await selectBackend('wasm');
  writeGrammarCorpus(tmp);
  grammar = await loadCorpus(tmp);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A tiny config; `raw` overrides fields after validation (to reach values the schema refuses). */
function tiny(overrides: Record<string, unknown> = {}, raw: (c: TrialConfig) => void = () => {}): TrialConfig {
  const c = TrialConfig.parse({
    model: { embedding: 16, hidden: 16, layers: 1 },
    training: { batchSize: 4, unroll: 8 },
    ...overrides,
  });
  raw(c);
  return c;
}

async function losses(config: TrialConfig, seed: number): Promise<number[]> {
  const out: number[] = [];
  await runTrial({ config, seed, corpus: grammar, onMetrics: (ps) => void out.push(...ps.filter((p) => p.name === 'train_loss').map((p) => p.value)) });
  return out;
}

describe('runTrial on wasm', () => {
  it('learns the toy grammar, streams metrics and progress, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const points: MetricPoint[] = [];
    const progress: number[] = [];
    const eta: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const config = tiny({ budget: { evalEvery: 40 } });
    const result = await runTrial({
      config,
      seed: 0,
      corpus: grammar,
      onMetrics: (ps) => void points.push(...ps),
      onProgress: (p) => {
        progress.push(p.progress);
        eta.push(p.etaSeconds);
      },
    });
    clearInterval(timer);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => TrialResult.parse(result)).not.toThrow();
    const V = grammar.vocab.length;
    const plan = trainingPlan(config, grammar.train.length);
    expect(plan.stepsPerEpoch).toBe(87); // ⌊(⌊2800/4⌋ − 1)/8⌋
    expect(result).toMatchObject({ steps: 87, tokens: 87 * 32, vocabSize: V, backend: 'wasm', params: lstmLmParamCount(V, config.model).total });
    expect(result.validPpl).toBeLessThan(3.5); // from ≈14 (uniform) toward e^0.67 ≈ 2
    expect(result.testPpl).toBeLessThan(3.5);
    expect(result.tokensPerSecond).toBeGreaterThan(0);

    const train = points.filter((p) => p.name === 'train_loss');
    expect(train[0]!.value).toBeGreaterThan(2.4); // ≈ ln 14
    expect(train.at(-1)!.value).toBeLessThan(1.3);
    expect(result.trainLoss).toBe(train.at(-1)!.value);
    expect(points.filter((p) => p.name === 'lr').every((p) => p.value === 1)).toBe(true);
    expect(points.filter((p) => p.name === 'valid_ppl').map((p) => p.step)).toEqual([40, 80, 87]);
    expect(points.filter((p) => p.name === 'test_ppl').map((p) => p.value)).toEqual([result.testPpl]);
    expect(points.at(-2)).toMatchObject({ name: 'valid_ppl', value: result.validPpl, epoch: 1 });
    expectClose(train[0]!.epoch, train[0]!.step / 87, { rtol: 1e-12 });
    expect(progress.length).toBe(87);
    expect(progress.at(-1)).toBe(1);
    expect(eta.at(-1)).toBeGreaterThan(0); // the final evaluation is still ahead
    expect(eta[0]).toBeGreaterThan(eta.at(-1)!);
    expect(ticks).toBeGreaterThan(10); // timers ran during training
  });

  it('same seed gives the same loss curve, another seed another (with dropout)', async () => {
    const config = tiny({ model: { embedding: 16, hidden: 16, layers: 2, dropout: 0.3 }, budget: { maxSteps: 12, evalTokens: 50 } });
    const a = await losses(config, 5);
    const b = await losses(config, 5);
    const c = await losses(config, 6);
    expect(a.length).toBe(12);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('trains with Adam', async () => {
    const l = await losses(tiny({ training: { batchSize: 4, unroll: 8, optimizer: 'adam', lr: 0.01 }, budget: { maxSteps: 60, evalTokens: 50 } }), 0);
    expect(l.at(-1)!).toBeLessThan(l[0]! - 0.8);
  });

  it('stops at the next step when aborted, disposing everything', async () => {
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    const run = runTrial({
      config: tiny(),
      seed: 0,
      corpus: grammar,
      signal: ac.signal,
      onProgress: (p) => p.step === 5 && ac.abort('cancelled by test'),
    });
    await expect(run).rejects.toThrow(AbortedError);
    await expect(run).rejects.toMatchObject({ step: 5, message: 'trial aborted at step 5: cancelled by test' });
    expect(tf.memory().numTensors).toBe(before);
    await expect(runTrial({ config: tiny(), seed: 0, corpus: grammar, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortedError', step: 0 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('throws DivergedError on a NaN loss, reports it, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const points: MetricPoint[] = [];
    const config = tiny({}, (c) => Object.assign(c.training, { lr: 1e30, clip: 1e30 }));
    const err = await runTrial({ config, seed: 0, corpus: grammar, onMetrics: (ps) => void points.push(...ps) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergedError);
    // Step 2, or 3 with the native kernels: after the first step's blow-up, step 2's input
    // projection overflows; XNNPACK returns NaN there, the native product ±∞ (every term of a sum
    // overflows with the same sign), which the gates turn into finite values for one more step.
    const step = (err as DivergedError).step;
    expect(step === 2 || (step === 3 && nativeKernelsStatus().available)).toBe(true);
    expect(points.at(-1)).toMatchObject({ name: 'train_loss', step });
    expect(points.at(-1)!.value).toBeNaN();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('throws DivergedError when the loss stays finite but perplexity overflows', async () => {
    const before = tf.memory().numTensors;
    const config = tiny({ budget: { maxSteps: 10, evalTokens: 100 } }, (c) => Object.assign(c.training, { lr: 1e6, clip: 1e6 }));
    await expect(runTrial({ config, seed: 0, corpus: grammar })).rejects.toThrow(/diverged at step 10: validation perplexity is Infinity/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains a few steps on PTB with a 500-word vocabulary', async () => {
    const ptb = await loadCorpus(resolveDataset('ptb', datasetSearchDirs()), { vocabSize: 500 });
    const points: MetricPoint[] = [];
    const stepLoss: number[] = [];
    const config = TrialConfig.parse({
      dataset: { name: 'ptb', vocabSize: 500 },
      model: { embedding: 32, hidden: 32, layers: 1 },
      budget: { maxSteps: 40, evalTokens: 2000 },
    });
    const r = await runTrial({ config, seed: 0, corpus: ptb, onMetrics: (ps) => void points.push(...ps), onProgress: (p) => stepLoss.push(p.trainLoss) });
    expect(stepLoss[0]!).toBeGreaterThan(6); // ≈ ln 500 = 6.2
    expect(points.filter((p) => p.name === 'train_loss').at(-1)!.value).toBeLessThan(stepLoss[0]! - 0.8);
    expect(r.validPpl).toBeLessThan(500);
    expect(r.vocabSize).toBe(500);
    expect(points.at(-1)!.epoch).toBeCloseTo(40 / 2323, 9); // ⌊(⌊929589/20⌋ − 1)/20⌋ = 2323 steps an epoch
  });
});

describe.skipIf(!nativeKernelsBuilt())('runTrial with the native kernels', () => {
  it('follows the loss curve of the wasm path (SGD and Adam, rtol 1e-4) and leaks nothing', async () => {
    for (const optimizer of ['sgd', 'adam'] as const) {
      const config = tiny({ training: { batchSize: 4, unroll: 8, optimizer, lr: optimizer === 'sgd' ? 1 : 0.01 }, budget: { maxSteps: 6, evalTokens: 40 } });
      await selectBackend('wasm', { native: false });
      const wasm = await losses(config, 2);
      await selectBackend('wasm', { native: true });
      const before = tf.memory().numTensors;
      const native = await losses(config, 2);
      expect(tf.memory().numTensors).toBe(before);
      expect(native.length).toBeGreaterThan(2);
      expectClose(native, wasm, { rtol: 1e-4 });
    }
  });
});

describe('runTrial on cpu', () => {
  it('runs a couple of steps and agrees with wasm', async () => {
    const config = tiny({ budget: { maxSteps: 2, evalTokens: 40 } });
    const wasm = await losses(config, 1);
    await selectBackend('cpu');
    try {
      const before = tf.memory().numTensors;
      const out: number[] = [];
      const r = await runTrial({ config, seed: 1, corpus: grammar, onMetrics: (ps) => void out.push(...ps.filter((p) => p.name === 'train_loss').map((p) => p.value)) });
      expect(r.backend).toBe('cpu');
      expectClose(out, wasm, { rtol: 1e-4 });
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await selectBackend('wasm');
    }
  });
});

describe('model, schedule and evaluation', () => {
  it('counts parameters exactly', () => {
    const cfg = { embedding: 12, hidden: 7, layers: 3, dropout: 0, initScale: 0.1 };
    const model = new LstmLm(50, cfg, 0);
    const count = lstmLmParamCount(50, cfg);
    expect(count.total).toBe(model.paramCount());
    const sizeOf = (layer: string) => model.variables.filter((v) => v.name.split('/')[1] === layer).reduce((a, v) => a + v.size, 0);
    for (const [layer, n] of Object.entries(count.byLayer)) expect(n, layer).toBe(sizeOf(layer));
    expect(Object.keys(count.byLayer)).toEqual(['embedding', 'lstm.0', 'lstm.1', 'lstm.2', 'softmax']);
    model.dispose();
    // Zaremba's small PTB model with one bias per gate
    expect(lstmLmParamCount(10_000, { embedding: 200, hidden: 200, layers: 2 }).total).toBe(4_651_600);
  });

  it('initializes within ±initScale, deterministically per seed', () => {
    const cfg = { embedding: 4, hidden: 4, layers: 1, dropout: 0, initScale: 0.05 };
    const [a, b, c] = [new LstmLm(9, cfg, 1), new LstmLm(9, cfg, 1), new LstmLm(9, cfg, 2)];
    const flat = (m: LstmLm) => m.variables.flatMap((v) => Array.from(v.dataSync()));
    expect(flat(a)).toEqual(flat(b));
    expect(flat(a)).not.toEqual(flat(c));
    expect(Math.max(...flat(a).map(Math.abs))).toBeLessThanOrEqual(0.05);
    for (const m of [a, b, c]) m.dispose();
  });

  it('decays the rate after decayStart epochs (Zaremba) and plans steps by budget', () => {
    const t = TrialConfig.parse({}).training; // lr 1, decay 0.5 from epoch 4
    expect([0, 1, 2, 3, 4, 5].map((e) => learningRate(t, e))).toEqual([1, 1, 1, 1, 0.5, 0.25]);
    expect(learningRate({ ...t, decayStart: 0 }, 0)).toBe(1);
    expect(learningRate({ ...t, decayStart: 0 }, 1)).toBe(0.5);
    const c = TrialConfig.parse({ training: { batchSize: 10, unroll: 5, epochs: 2.5 } });
    expect(trainingPlan(c, 1000)).toEqual({ stepsPerEpoch: 19, totalSteps: 48, tokensPerStep: 50 });
    expect(trainingPlan({ ...c, budget: { maxSteps: 7 } }, 1000).totalSteps).toBe(7);
    expect(trainingPlan({ ...c, budget: { maxTokens: 120, maxSteps: 7 } }, 1000).totalSteps).toBe(3);
    expect(() => trainingPlan(c, 50)).toThrow(/too short for batchSize 10 × unroll 5/);
  });

  it('evaluates every token: uniform model gives perplexity V; windows do not change the result', async () => {
    const tokens = Int32Array.from({ length: 1001 }, (_, i) => (i * 7) % 13);
    const flat = new LstmLm(13, { embedding: 8, hidden: 8, layers: 2, dropout: 0, initScale: 1e-7 }, 0);
    const u = await evaluatePerplexity(flat, tokens, { eosId: 0, batchSize: 7, unroll: 9 });
    expect(u.tokens).toBe(1001);
    expectClose(u.perplexity, 13, { rtol: 1e-4 });
    flat.dispose();
    const before = tf.memory().numTensors;
    const model = new LstmLm(13, { embedding: 8, hidden: 8, layers: 2, dropout: 0, initScale: 0.5 }, 0);
    const seq = await evaluatePerplexity(model, tokens, { eosId: 0, batchSize: 1, unroll: 1001 });
    const windows = await evaluatePerplexity(model, tokens, { eosId: 0, batchSize: 1, unroll: 10 });
    const rows = await evaluatePerplexity(model, tokens, { eosId: 0, batchSize: 8, unroll: 10 });
    expectClose(windows.meanNll, seq.meanNll, { rtol: 1e-5 });
    expectClose(rows.meanNll, seq.meanNll, { rtol: 2e-2 }); // rows restart from a zero state
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
