// Pause and resume (issue 14's promotion): a trial paused at a step and continued by a fresh
// runTrial call from its resume checkpoint ends as the same trial run straight through.
//
// Tolerance: none. The resumed run restores every input of the next step exactly (float32
// weights, moments and LSTM state as bits, the dropout stream's words, doubles of the loss
// bookkeeping through JSON, which round-trips them) and, on the same backend with the same
// thread count, runs the same floating-point operations in the same order: so every metric point
// and the final perplexities are compared bit for bit (toEqual), and the final checkpoints byte
// for byte.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { type MetricPoint, TrialConfig, type TrialResult } from '@lmsweep/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.ts';
import { type Corpus, datasetSearchDirs, loadCorpus, resolveDataset } from './corpus.ts';
import { canonicalJson, isResumeCheckpoint, RESUME_FORMAT, ResumeCheckpointError } from './resume.ts';
import { TEST_BACKENDS, writeGrammarCorpus } from './testing.ts';
import { isPaused, runTrial, type RunTrialOptions, type TrialPaused, trainingPlan } from './train.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'lmsweep-resume-'));
let grammar: Corpus;
let ptb: Corpus;

beforeAll(async () => {
  await selectBackend('wasm');
  writeGrammarCorpus(tmp);
  grammar = await loadCorpus(tmp);
  ptb = await loadCorpus(resolveDataset('ptb', datasetSearchDirs()), { vocabSize: 360 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const tiny = (overrides: Record<string, unknown>) => TrialConfig.parse({ model: { embedding: 16, hidden: 16, layers: 2, dropout: 0.3 }, training: { batchSize: 4, unroll: 8 }, ...overrides });

type Base = Omit<RunTrialOptions, 'onMetrics' | 'onCheckpoint' | 'resume'>;

interface Outcome {
  points: MetricPoint[];
  result: TrialResult;
  checkpoint: Uint8Array;
  /** Each pause's answer and resume checkpoint. */
  pauses: { paused: TrialPaused; bytes: Uint8Array }[];
}

/**
 * Runs the trial to the end, pausing after each step in `at` and resuming from a copy of the
 * bytes in a fresh runTrial call (with `later` over `base`).
 */
async function run(base: Base, at: number[] = [], later: Partial<Base> = {}): Promise<Outcome> {
  const points: MetricPoint[] = [];
  const pauses: Outcome['pauses'] = [];
  let checkpoint: Uint8Array | undefined;
  let resume: Uint8Array | undefined;
  for (let i = 0; ; i++) {
    const common = { ...base, ...(resume ? { ...later, resume: { checkpoint: resume } } : {}), onMetrics: (ps: MetricPoint[]) => void points.push(...ps), onCheckpoint: async (c: Uint8Array) => void (checkpoint = c) };
    const k = at[i];
    if (k === undefined) {
      const result = await runTrial(common);
      return { points, result, checkpoint: checkpoint!, pauses };
    }
    let bytes: Uint8Array | undefined;
    const r = await runTrial({ ...common, pause: { at: (step) => step === k, onCheckpoint: async (b) => void (bytes = b) } });
    if (!isPaused(r)) throw new Error(`expected a pause at step ${k}`);
    expect(r.step).toBe(k);
    pauses.push({ paused: r, bytes: bytes! });
    resume = bytes!.slice(); // another worker's copy
  }
}

/** What must not differ between the straight and the resumed run: the result without its timings, every metric point, the final checkpoint. */
function expectSameTrial(resumed: Outcome, straight: Outcome) {
  // timings differ; a compression report's matrices time their compression (in the run that compressed)
  const strip = ({ seconds: _s, tokensPerSecond: _t, ...r }: TrialResult) =>
    r.compression ? { ...r, compression: { ...r.compression, matrices: Object.fromEntries(Object.entries(r.compression.matrices).map(([k, { seconds: _m, ...m }]) => [k, m])) } } : r;
  expect(resumed.points).toEqual(straight.points);
  expect(strip(resumed.result)).toEqual(strip(straight.result));
  expect(Buffer.from(resumed.checkpoint).equals(Buffer.from(straight.checkpoint))).toBe(true);
}

const NO_DIFF = { loss: 0, validPpl: 0, testPpl: 0 };

/** Largest |a − b| over the train_loss points and the final perplexities (for the record: 0 when the runs agree bit for bit). */
function maxDiff(a: Outcome, b: Outcome): { loss: number; validPpl: number; testPpl: number } {
  const la = a.points.filter((p) => p.name === 'train_loss');
  const lb = b.points.filter((p) => p.name === 'train_loss');
  return { loss: Math.max(...la.map((p, i) => Math.abs(p.value - lb[i]!.value))), validPpl: Math.abs(a.result.validPpl - b.result.validPpl), testPpl: Math.abs(a.result.testPpl - b.result.testPpl) };
}

// wasm with and without the native kernels (the pure-JS backend runs the same code paths as plain
// wasm's tf-op branch only partly, and is ≈ 30× slower: it gets one small case below).
for (const [label, backend, native, available] of TEST_BACKENDS.filter(([, b]) => b === 'wasm')) {
  describe.skipIf(!available)(`pause and resume on ${label}`, () => {
    beforeAll(async () => {
      await selectBackend(backend, { native });
    });
    afterAll(async () => {
      await selectBackend('wasm', { native: true });
    });

    it('dense with Adam and dropout: paused mid-interval (13) and at an evalEvery step (40), the curve and result equal the straight run', async () => {
      const config = tiny({ training: { batchSize: 4, unroll: 8, optimizer: 'adam', lr: 0.01 }, budget: { maxSteps: 60, evalEvery: 20, evalTokens: 120 } });
      const base = { config, seed: 3, corpus: grammar };
      const before = tf.memory().numTensors;
      const straight = await run(base);
      const resumed = await run(base, [13, 40]);
      expect(tf.memory().numTensors).toBe(before);
      expectSameTrial(resumed, straight);
      // 13 is not a multiple of the train_loss interval (3): the interval in progress carried over
      expect(straight.points.filter((p) => p.name === 'train_loss').map((p) => p.step)).toContain(15);
      expect(resumed.pauses.map((p) => p.paused.lastValid)).toEqual([undefined, { step: 40, validPpl: straight.points.find((p) => p.name === 'valid_ppl' && p.step === 40)!.value }]);
      expect(maxDiff(resumed, straight)).toEqual(NO_DIFF);
    });

    it('dense with SGD and the decaying rate: paused mid-epoch (7) and at an epoch boundary (10), across the decay', async () => {
      // 5 windows of 4×8 an epoch; the rate halves from the 2nd epoch on
      const short: Corpus = { ...grammar, train: grammar.train.subarray(0, 4 * 41) };
      const config = tiny({ training: { batchSize: 4, unroll: 8, lr: 1, lrDecay: 0.5, decayStart: 1, epochs: 4 }, budget: { evalEvery: 4, evalTokens: 120 } });
      expect(trainingPlan(config, short.train.length)).toMatchObject({ stepsPerEpoch: 5, totalSteps: 20 });
      const base = { config, seed: 1, corpus: short };
      const straight = await run(base);
      const resumed = await run(base, [7, 10]);
      expectSameTrial(resumed, straight);
      expect(new Set(straight.points.filter((p) => p.name === 'lr').map((p) => p.value))).toEqual(new Set([1, 0.5, 0.25, 0.125]));
      expect(maxDiff(resumed, straight)).toEqual(NO_DIFF);
    });

    it('PHM and low-rank models; Transformers: dense with dropout, PHM on attention and ffn, tied with sinusoids', async () => {
      const transformer = { arch: 'transformer', embedding: 16, hidden: 16, layers: 1, heads: 2, dropout: 0.2 } as const;
      for (const [method, model] of [
        ['phm', { embedding: 16, hidden: 16, layers: 1, dropout: 0.2, phm: { n: 2, layers: ['gates', 'output'], path: 'factored' } }],
        ['lowrank', { embedding: 16, hidden: 16, layers: 1, dropout: 0.2, lowrank: { rank: 4, layers: ['gates', 'output'] } }],
        ['dense', transformer],
        ['phm', { ...transformer, phm: { n: 2, layers: ['attention', 'ffn'], path: 'factored' } }],
        ['dense', { ...transformer, tied: true, positions: 'sinusoidal' }],
      ] as const) {
        const config = TrialConfig.parse({ method, model, training: { batchSize: 4, unroll: 8, optimizer: 'adam', lr: 0.01 }, budget: { maxSteps: 24, evalEvery: 8, evalTokens: 120 } });
        const base = { config, seed: 2, corpus: grammar };
        const straight = await run(base);
        const resumed = await run(base, [11]);
        expectSameTrial(resumed, straight);
        expect(maxDiff(resumed, straight)).toEqual(NO_DIFF);
      }
    });

    it('a groupreduce trial from a Transformer baseline, paused during its fine-tuning', async () => {
      const transformer = { arch: 'transformer', embedding: 40, hidden: 40, layers: 1, heads: 2, dropout: 0.2 } as const;
      const dense = TrialConfig.parse({ dataset: { name: 'ptb', vocabSize: 360 }, model: transformer, training: { batchSize: 8, unroll: 10, optimizer: 'adam', lr: 0.01 }, budget: { maxSteps: 30, evalTokens: 1000 } });
      let baseline: Uint8Array | undefined;
      const denseResult = await runTrial({ config: dense, seed: 0, corpus: ptb, onCheckpoint: async (c) => void (baseline = c) });
      const config = TrialConfig.parse({ ...dense, method: 'groupreduce', compress: { rate: 4, blocks: 5, iters: 2, finetune: { maxSteps: 12, lr: 0.01, evalEvery: 4 } } });
      const base = { config, seed: 0, corpus: ptb, baseline: { trialId: 'tb', checkpoint: baseline! } };
      const straight = await run(base);
      expect(straight.result.compression).toBeDefined();
      expect(straight.result.params).toBeLessThan(denseResult.params);
      expectSameTrial(await run(base, [5], { baseline: undefined }), straight);
    });

    describe('a compression trial paused during its fine-tuning', () => {
      let baseline: Uint8Array;
      const dense = TrialConfig.parse({
        dataset: { name: 'ptb', vocabSize: 360 },
        model: { embedding: 40, hidden: 40, layers: 1 },
        training: { batchSize: 8, unroll: 10, optimizer: 'adam', lr: 0.01 },
        budget: { maxSteps: 40, evalTokens: 1000 },
      });
      beforeAll(async () => {
        await runTrial({ config: dense, seed: 0, corpus: ptb, onCheckpoint: async (c) => void (baseline = c) });
      }, 60_000);

      it('groupreduce: paused at 7 and at an evalEvery step (10); the best point and its test perplexity come out the same', async () => {
        const config = TrialConfig.parse({ ...dense, method: 'groupreduce', compress: { rate: 4, blocks: 5, iters: 2, finetune: { maxSteps: 20, lr: 0.01, evalEvery: 5 } } });
        const base = { config, seed: 0, corpus: ptb, baseline: { trialId: 'b1', checkpoint: baseline } };
        const straight = await run(base);
        // the resumed run does without its baseline: the compressed model is in the checkpoint
        expectSameTrial(await run(base, [7], { baseline: undefined }), straight);
        const two = await run(base, [7, 10]);
        expectSameTrial(two, straight);
        expect(straight.result.finetune).toMatchObject({ baselineTrialId: 'b1' });
        expect(straight.result.compression).toBeDefined();
      expect(maxDiff(two, straight)).toEqual(NO_DIFF);
      });

      it('svd at a rate that only hurts: the best point stays at step 0, its weights travel in the checkpoint', async () => {
        const config = TrialConfig.parse({ ...dense, method: 'svd', compress: { rate: 4, finetune: { maxSteps: 8, lr: 0.5, evalEvery: 4 } } });
        const base = { config, seed: 0, corpus: ptb, baseline: { trialId: 'b1', checkpoint: baseline } };
        const straight = await run(base);
        const resumed = await run(base, [5]);
        expectSameTrial(resumed, straight);
        expect(straight.result.finetune!.bestStep).toBe(0);
        expect(Object.keys(decodeCheckpoint(resumed.pauses[0]!.bytes).tensors).some((k) => k.startsWith('resume/best/'))).toBe(true);
        expect(resumed.pauses[0]!.paused.best).toEqual({ step: 0, validPpl: straight.result.finetune!.validPplBefore });
      expect(maxDiff(resumed, straight)).toEqual(NO_DIFF);
      });

      it('a resume checkpoint is refused as a baseline, a final checkpoint as a resume checkpoint', async () => {
        const config = TrialConfig.parse({ ...dense, method: 'svd', compress: { rate: 4, finetune: { maxSteps: 4 } } });
        const paused = await run({ config: dense, seed: 0, corpus: ptb }, [3]).then((o) => o.pauses[0]!.bytes);
        expect(isResumeCheckpoint(decodeCheckpoint(paused))).toBe(true);
        expect(isResumeCheckpoint(decodeCheckpoint(baseline))).toBe(false);
        await expect(runTrial({ config, seed: 0, corpus: ptb, baseline: { trialId: 'b', checkpoint: paused } })).rejects.toThrow(/the baseline checkpoint is a paused trial's resume checkpoint \(lmsweep-resume\/1, step 3 of 40\), not a finished trial's/);
        await expect(runTrial({ config: dense, seed: 0, corpus: ptb, resume: { checkpoint: baseline } })).rejects.toThrow(/resume checkpoint: no "format" in its metadata: this is a finished trial's checkpoint/);
      });
    });
  });
}

describe('pause here, resume in another process', () => {
  it('dense Adam with dropout: the other process continues the curve bit for bit', async () => {
    await selectBackend('wasm');
    const config = tiny({ training: { batchSize: 4, unroll: 8, optimizer: 'adam', lr: 0.01 }, budget: { maxSteps: 30, evalEvery: 10, evalTokens: 120 } });
    const base = { config, seed: 7, corpus: grammar };
    const straight = await run(base);
    const pausedPoints: MetricPoint[] = [];
    let bytes: Uint8Array | undefined;
    const r = await runTrial({ ...base, onMetrics: (ps) => void pausedPoints.push(...ps), pause: { at: (step) => step === 17, onCheckpoint: async (b) => void (bytes = b) } });
    expect(isPaused(r) && r.step).toBe(17);
    const [configFile, ckptFile] = [path.join(tmp, 'config.json'), path.join(tmp, 'paused.safetensors')];
    writeFileSync(configFile, JSON.stringify(config));
    writeFileSync(ckptFile, bytes!);
    const srcDir = path.dirname(fileURLToPath(import.meta.url));
    const tsx = path.resolve(srcDir, '../../../node_modules/.bin/tsx');
    const { stdout } = await promisify(execFile)(tsx, [path.join(srcDir, 'resume-child.fixture.ts'), tmp, configFile, '7', ckptFile], { maxBuffer: 64 << 20 });
    const child = JSON.parse(stdout.trim().split('\n').at(-1)!) as { points: MetricPoint[]; result: TrialResult; checkpoint: string };
    expectSameTrial({ points: [...pausedPoints, ...child.points], result: child.result, checkpoint: new Uint8Array(Buffer.from(child.checkpoint, 'base64')), pauses: [] }, straight);
  }, 60_000);
});

describe('a pause decided elsewhere', () => {
  it('an asynchronous at: the run waits for its answer, the step\'s valid_ppl point was reported before it was asked, and the pause resumes as the straight run', async () => {
    await selectBackend('wasm');
    const config = tiny({ training: { batchSize: 4, unroll: 8, optimizer: 'adam', lr: 0.01 }, budget: { maxSteps: 20, evalEvery: 5, evalTokens: 60 } });
    const base = { config, seed: 5, corpus: grammar };
    const straight = await run(base);
    const points: MetricPoint[] = [];
    let progressed = 0;
    const asked: { step: number; reported: boolean; progressedWhenAnswered: number }[] = [];
    let bytes: Uint8Array | undefined;
    const r = await runTrial({
      ...base,
      onMetrics: (ps) => void points.push(...ps),
      onProgress: (p) => void (progressed = p.step),
      pause: {
        at: async (step, p) => {
          if (p.lastValid?.step !== step) return false;
          const reported = points.some((q) => q.name === 'valid_ppl' && q.step === step && q.value === p.lastValid!.validPpl);
          await new Promise((resolve) => setTimeout(resolve, 20)); // the verdict on its way
          asked.push({ step, reported, progressedWhenAnswered: progressed });
          return step === 10;
        },
        onCheckpoint: async (b) => void (bytes = b),
      },
    });
    expect(isPaused(r) && r.step).toBe(10);
    // No step ran while an answer was on its way.
    expect(asked).toEqual([
      { step: 5, reported: true, progressedWhenAnswered: 5 },
      { step: 10, reported: true, progressedWhenAnswered: 10 },
    ]);
    const rest: MetricPoint[] = [];
    let checkpoint: Uint8Array | undefined;
    const result = await runTrial({ ...base, resume: { checkpoint: bytes! }, onMetrics: (ps) => void rest.push(...ps), onCheckpoint: async (c) => void (checkpoint = c) });
    expectSameTrial({ points: [...points, ...rest], result, checkpoint: checkpoint!, pauses: [] }, straight);
  });
});

describe('pause and resume on cpu', () => {
  it('dense SGD, a few steps', async () => {
    await selectBackend('cpu');
    try {
      const config = tiny({ model: { embedding: 8, hidden: 8, layers: 1, dropout: 0.3 }, budget: { maxSteps: 6, evalEvery: 3, evalTokens: 40 } });
      const base = { config, seed: 4, corpus: grammar };
      const straight = await run(base);
      expectSameTrial(await run(base, [2, 3]), straight);
    } finally {
      await selectBackend('wasm');
    }
  });
});

describe('refused resume checkpoints', () => {
  const config = tiny({ training: { batchSize: 4, unroll: 8, optimizer: 'adam', lr: 0.01 }, budget: { maxSteps: 12, evalEvery: 4, evalTokens: 40 } });
  let bytes: Uint8Array;
  beforeAll(async () => {
    await selectBackend('wasm');
    bytes = (await run({ config, seed: 0, corpus: grammar }, [5])).pauses[0]!.bytes;
  });
  const resume = (checkpoint: Uint8Array, over: Partial<RunTrialOptions> = {}) => runTrial({ config, seed: 0, corpus: grammar, resume: { checkpoint }, ...over });
  /** The checkpoint with its metadata edited and re-encoded (digest kept as it was). */
  const reencoded = (edit: (m: Record<string, string>) => void) => {
    const c = decodeCheckpoint(bytes);
    edit(c.metadata);
    return encodeCheckpoint(c.tensors, c.metadata);
  };

  it('holds what a resume needs, under the documented names', () => {
    const c = decodeCheckpoint(bytes);
    expect(c.metadata).toMatchObject({ format: RESUME_FORMAT, seed: '0', config: canonicalJson(config), backend: 'wasm' });
    const trainer = JSON.parse(c.metadata['trainer']!) as Record<string, unknown>;
    expect(trainer).toMatchObject({ step: 5, totalSteps: 12, optimizer: 'adam', adamStep: 5, intervalSteps: 0 });
    const names = Object.keys(c.tensors);
    for (const n of ['embedding/E', 'lstm.0/Wx', 'lstm.1/Wh', 'softmax/W', 'resume/adam.m/lstm.0/Wx', 'resume/adam.v/softmax/b', 'resume/lstm.1.h', 'resume/lstm.0.c', 'resume/rng.dropout']) expect(names).toContain(n);
    expect(c.tensors['resume/lstm.1.h']!.shape).toEqual([4, 16]);
  });

  it('refuses a truncated checkpoint', async () => {
    await expect(resume(bytes.subarray(0, bytes.length - 64))).rejects.toThrow(/^resume checkpoint: checkpoint tensor "[^"]+": data_offsets \[\d+, \d+\] run past the data section of \d+ bytes \(truncated\?\)/);
    await expect(resume(bytes.subarray(0, 40))).rejects.toThrow(/^resume checkpoint: checkpoint truncated: header of \d+ bytes, but only 32 follow the length/);
    await expect(resume(bytes.subarray(0, 40))).rejects.toBeInstanceOf(ResumeCheckpointError);
  });

  it('refuses a flipped bit in the tensors or the metadata', async () => {
    const flipped = bytes.slice();
    flipped[flipped.length - 1000]! ^= 0x10;
    await expect(resume(flipped)).rejects.toThrow(/^resume checkpoint: its contents do not match their sha256 digest [0-9a-f]{12}…: corrupt/);
    await expect(resume(reencoded((m) => (m['trainer'] = m['trainer']!.replace('"step":5', '"step":6'))))).rejects.toThrow(/do not match their sha256 digest/);
    await expect(resume(reencoded((m) => delete m['digest']))).rejects.toThrow(/sha256 digest \(missing\)/);
  });

  it('refuses another format version', async () => {
    await expect(resume(reencoded((m) => (m['format'] = 'lmsweep-resume/2')))).rejects.toThrow(/^resume checkpoint: format "lmsweep-resume\/2" is not one this version reads \(lmsweep-resume\/1\)/);
  });

  it('refuses a checkpoint of another config, seed or corpus, naming the difference', async () => {
    const other = TrialConfig.parse({ ...config, training: { ...config.training, lr: 0.02 } });
    await expect(resume(bytes, { config: other })).rejects.toThrow(/^resume checkpoint: it belongs to another trial config: training\.lr: 0\.02 here, 0\.01 in the checkpoint$/);
    const deeper = TrialConfig.parse({ ...config, model: { ...config.model, hidden: 8 }, budget: { ...config.budget, maxSteps: 13 } });
    await expect(resume(bytes, { config: deeper })).rejects.toThrow(/budget\.maxSteps: 13 here, 12 in the checkpoint; model\.hidden: 8 here, 16 in the checkpoint/);
    await expect(resume(bytes, { seed: 1 })).rejects.toThrow(/^resume checkpoint: it was trained with seed 0, this trial has seed 1/);
    await expect(resume(bytes, { corpus: { ...grammar, train: grammar.train.subarray(1) } })).rejects.toThrow(/^resume checkpoint: it was trained on another corpus/);
  });

  it('leaks no tensors when it refuses one', async () => {
    const before = tf.memory().numTensors;
    const flipped = bytes.slice();
    flipped[flipped.length - 1]! ^= 1;
    await expect(resume(flipped)).rejects.toThrow(ResumeCheckpointError);
    expect(tf.memory().numTensors).toBe(before);
  });
});
