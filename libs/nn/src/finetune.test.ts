// Fine-tuning from a baseline's checkpoint (compression trials and the dense + fine-tune control):
// the learning rate it starts at, the best validation point it keeps, and the control itself.
import { expectClose } from '@lmsweep/algorithms';
import { controlConfigOf, type MetricPoint, TrialConfig, type TrialResult } from '@lmsweep/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { decodeCheckpoint } from './checkpoint.ts';
import { type Corpus, datasetSearchDirs, EOS, loadCorpus, resolveDataset } from './corpus.ts';
import { LstmLm } from './lstm-lm.ts';
import { baselineFinalLr, evaluatePerplexity, finetuneConfig, runTrial, TrialConfigError, trainingPlan } from './train.ts';

let ptb: Corpus;
let checkpoint: Uint8Array;
let baseline: TrialResult;

// PTB at 360 words with 40-d embedding and hidden: rate 4 is rank 9 exactly for svd.
const dense = TrialConfig.parse({
  dataset: { name: 'ptb', vocabSize: 360 },
  model: { embedding: 40, hidden: 40, layers: 1 },
  training: { batchSize: 8, unroll: 10, optimizer: 'adam', lr: 0.01 },
  budget: { maxSteps: 60, evalTokens: 2000 },
});
const compressed = (method: string, compress: Record<string, unknown>) => TrialConfig.parse({ ...dense, method, compress });
const from = () => ({ trialId: 't1', checkpoint });

/** Collects a run's metric points. */
function recorder() {
  const points: MetricPoint[] = [];
  return { points, onMetrics: (ps: MetricPoint[]) => void points.push(...ps), named: (name: string) => points.filter((p) => p.name === name) };
}

/** Validation perplexity of a checkpoint's weights, measured again the way runTrial measures it. */
async function validOf(bytes: Uint8Array, config: TrialConfig): Promise<number> {
  const model = LstmLm.fromWeights(ptb.vocab.length, config.model, decodeCheckpoint(bytes).tensors);
  try {
    return (await evaluatePerplexity(model, ptb.valid.subarray(0, 2000), { eosId: ptb.vocab.indexOf(EOS) })).perplexity;
  } finally {
    model.dispose();
  }
}

beforeAll(async () => {
  await selectBackend('wasm');
  ptb = await loadCorpus(resolveDataset('ptb', datasetSearchDirs()), { vocabSize: 360 });
  baseline = await runTrial({ config: dense, seed: 0, corpus: ptb, onCheckpoint: async (c) => void (checkpoint = c) });
}, 60_000);

describe('the fine-tuning learning rate', () => {
  it("defaults to the baseline's final rate: 1/2⁹ after Zaremba's 13 epochs, not lr 1 again", () => {
    // Zaremba et al.'s medium setting: lr 1, halved every epoch after the 4th, 13 epochs, 20×35 windows on PTB's train split.
    const tokens = 929_589;
    const zaremba = TrialConfig.parse({ method: 'groupreduce', training: { batchSize: 20, unroll: 35, lr: 1, lrDecay: 0.5, decayStart: 4, epochs: 13 }, compress: { finetune: { maxSteps: 100 } } });
    expect(baselineFinalLr(zaremba, tokens)).toBe(0.5 ** 9);
    expect(finetuneConfig(zaremba, tokens).training.lr).toBe(0.5 ** 9);
    expect(finetuneConfig(controlConfigOf(zaremba), tokens).training.lr).toBe(0.5 ** 9);
    // A rate that is given wins.
    const given = TrialConfig.parse({ ...zaremba, compress: { finetune: { maxSteps: 100, lr: 0.1 } } });
    expect(finetuneConfig(given, tokens).training.lr).toBe(0.1);
    // A baseline its budget stops in its 6th epoch had decayed twice.
    const { stepsPerEpoch } = trainingPlan(zaremba, tokens);
    expect(baselineFinalLr({ ...zaremba, budget: { maxSteps: 5 * stepsPerEpoch + 1 } }, tokens)).toBe(0.25);
    expect(baselineFinalLr({ ...zaremba, budget: { maxSteps: 5 * stepsPerEpoch } }, tokens)).toBe(0.5);
    // One epoch (the demo's): the rate as given.
    expect(baselineFinalLr(compressed('svd', {}), tokens)).toBe(0.01);
  });

  it('at run time is the rate the baseline recorded at its last step, for compression trials and the control', async () => {
    const short: Corpus = { ...ptb, train: ptb.train.subarray(0, 8 * 51) }; // 5 windows of 8×10 an epoch
    const sgd = TrialConfig.parse({ ...dense, training: { batchSize: 8, unroll: 10, lr: 1, decayStart: 1, epochs: 4 }, budget: { evalTokens: 500 } });
    const base = recorder();
    let ckpt: Uint8Array | undefined;
    const b = await runTrial({ config: sgd, seed: 0, corpus: short, onMetrics: base.onMetrics, onCheckpoint: async (c) => void (ckpt = c) });
    expect(b.steps).toBe(20);
    expect(base.named('lr').map((p) => p.value)).toEqual([1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125, 0.125, 0.125]);
    const svd = TrialConfig.parse({ ...sgd, method: 'svd', compress: { rate: 4, finetune: { maxSteps: 3 } } });
    for (const config of [svd, controlConfigOf(svd)]) {
      const ft = recorder();
      const r = await runTrial({ config, seed: 0, corpus: short, baseline: { trialId: 'b', checkpoint: ckpt! }, onMetrics: ft.onMetrics });
      expect(r.finetune!.lr).toBe(0.125);
      expect(ft.named('lr').map((p) => p.value)).toEqual([0.125, 0.125, 0.125]);
    }
  });
});

describe('the best validation point of the fine-tuning', () => {
  it('is what the trial reports: a rate that only hurts leaves the model as it started (step 0)', async () => {
    // Adam at 0.5 wrecks a trained model within a step.
    const config = compressed('svd', { rate: 4, finetune: { maxSteps: 12, lr: 0.5, evalEvery: 4 } });
    const rec = recorder();
    let saved: Uint8Array | undefined;
    const r = await runTrial({ config, seed: 0, corpus: ptb, baseline: from(), onMetrics: rec.onMetrics, onCheckpoint: async (c) => void (saved = c) });
    const f = r.finetune!;
    const valid = rec.named('valid_ppl');
    expect(valid.map((p) => p.step)).toEqual([0, 4, 8, 12]);
    expect(f.validPplLast).toBe(valid.at(-1)!.value);
    expect(f.testPplLast).toBe(rec.named('test_ppl').find((p) => p.step === 12)!.value);
    expect(f.validPplLast).toBeGreaterThan(f.validPplBefore);
    expect([f.bestStep, f.steps, r.steps]).toEqual([0, 12, 12]);
    expect(r.validPpl).toBe(Math.min(...valid.map((p) => p.value)));
    expect([r.validPpl, r.testPpl]).toEqual([f.validPplBefore, f.testPplBefore]);
    expect(r.compression!.validPplBefore).toBe(f.validPplBefore);
    // The best point's weights were restored: the checkpoint measures what the trial reports.
    expectClose(await validOf(saved!, config), r.validPpl, { rtol: 1e-5 });
  });

  it('is the minimum of the fine-tuning curve, its test perplexity measured at that step, the last one beside it', async () => {
    // At this rate the curve dips at step 15 (≈ 29.9) and rises again by step 20 (≈ 30.5), here.
    const config = compressed('groupreduce', { rate: 4, blocks: 5, iters: 2, finetune: { maxSteps: 20, lr: 0.01, evalEvery: 5 } });
    const rec = recorder();
    let saved: Uint8Array | undefined;
    const r = await runTrial({ config, seed: 0, corpus: ptb, baseline: from(), onMetrics: rec.onMetrics, onCheckpoint: async (c) => void (saved = c) });
    const f = r.finetune!;
    const valid = rec.named('valid_ppl');
    expect(valid.map((p) => p.step)).toEqual([0, 5, 10, 15, 20]);
    const min = valid.reduce((a, p) => (p.value < a.value ? p : a));
    expect([r.validPpl, f.bestStep]).toEqual([min.value, min.step]);
    expect(r.validPpl).toBeLessThan(f.validPplLast);
    expect(f.bestStep).toBe(15);
    expect(f.validPplLast).toBe(valid.at(-1)!.value);
    expect(r.testPpl).toBe(rec.named('test_ppl').find((p) => p.step === f.bestStep)!.value);
    expect(f).toMatchObject({ baselineTrialId: 't1', steps: 20, lr: 0.01, validPplBefore: valid[0]!.value, testPplLast: rec.named('test_ppl').find((p) => p.step === 20)!.value });
    expectClose(await validOf(saved!, config), r.validPpl, { rtol: 1e-5 });
  });
});

describe('the dense + fine-tune control', () => {
  it('fine-tunes the baseline itself: its parameters, its perplexity before, the same steps and rate as the compression trials', async () => {
    const svd = compressed('svd', { rate: 4, finetune: { maxSteps: 10, lr: 0.003, evalEvery: 5 } });
    const control = controlConfigOf(svd);
    const rec = recorder();
    const r = await runTrial({ config: control, seed: 0, corpus: ptb, baseline: from(), onMetrics: rec.onMetrics });
    expect(r.compression).toBeUndefined();
    expect([r.params, r.paramsByLayer]).toEqual([baseline.params, baseline.paramsByLayer]);
    expect(r.finetune).toMatchObject({ baselineTrialId: 't1', steps: 10, lr: 0.003 });
    expect(r.steps).toBe(10);
    expect(rec.named('valid_ppl').map((p) => p.step)).toEqual([0, 5, 10]);
    expectClose(r.finetune!.validPplBefore, baseline.validPpl, { rtol: 1e-6 });
    expectClose(r.finetune!.testPplBefore, baseline.testPpl, { rtol: 1e-6 });
    expect(r.validPpl).toBe(Math.min(...rec.named('valid_ppl').map((p) => p.value)));
    // The compression trial with these settings trains exactly as many steps.
    expect(trainingPlan(finetuneConfig(svd, ptb.train.length), ptb.train.length).totalSteps).toBe(r.steps);
  });

  it('needs its baseline, and refuses a checkpoint of another model', async () => {
    const control = controlConfigOf(compressed('svd', { rate: 4 }));
    await expect(runTrial({ config: control, seed: 0, corpus: ptb })).rejects.toThrow(/dense-finetune fine-tunes a trained model: it needs its baseline/);
    const other = runTrial({ config: { ...control, model: { ...control.model, hidden: 32 } }, seed: 0, corpus: ptb, baseline: from() });
    await expect(other).rejects.toBeInstanceOf(TrialConfigError);
    await expect(other).rejects.toThrow(/dense-finetune: weights\["lstm.0\/Wx"\] has shape \[40,160\]/);
  });
});
