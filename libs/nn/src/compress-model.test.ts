// Compression trials in runTrial: from a dense trial's checkpoint to a compressed, fine-tuned model.
import * as tf from '@tensorflow/tfjs-core';
import { reconstruct, weightedError } from '@lmsweep/algorithms';
import { TrialConfig, TrialResult } from '@lmsweep/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { decodeCheckpoint } from './checkpoint.ts';
import { compressCheckpointMatrices, trainFrequencies } from './compress-model.ts';
import { type Corpus, datasetSearchDirs, loadCorpus, resolveDataset } from './corpus.ts';
import { runTrial, TrialConfigError } from './train.ts';

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

beforeAll(async () => {
  await selectBackend('wasm');
  ptb = await loadCorpus(resolveDataset('ptb', datasetSearchDirs()), { vocabSize: 360 });
  baseline = await runTrial({ config: dense, seed: 0, corpus: ptb, onCheckpoint: async (c) => void (checkpoint = c) });
}, 60_000);

describe('compression trials', () => {
  it('trainFrequencies counts every train token', () => {
    const q = trainFrequencies(ptb.train, ptb.vocab.length);
    expect(q.reduce((a, b) => a + b, 0)).toBe(ptb.train.length);
    expect(q.every((x) => x > 0)).toBe(true); // the vocabulary is built from the train split
  });

  it('the checkpoint holds the trained weights and what a compression trial checks', () => {
    const ckpt = decodeCheckpoint(checkpoint);
    expect(Object.keys(ckpt.tensors).sort()).toEqual(['embedding/E', 'lstm.0/Wx', 'lstm.0/Wh', 'lstm.0/b', 'softmax/W', 'softmax/b'].sort());
    expect(ckpt.tensors['embedding/E']!.shape).toEqual([360, 40]);
    expect(Number(ckpt.metadata['validPpl'])).toBe(baseline.validPpl);
    expect(Number(ckpt.metadata['params'])).toBe(baseline.params);
    expect(ckpt.metadata['vocabSha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('without fine-tuning, the result is the compressed model itself, at the rate asked, with exact counts', async () => {
    const before = tf.memory().numTensors;
    const r = await runTrial({ config: compressed('weighted-svd', { rate: 4, finetune: { epochs: 0 } }), seed: 0, corpus: ptb, baseline: { trialId: 't1', checkpoint } });
    expect(tf.memory().numTensors).toBe(before);
    const c = r.compression!;
    expect([r.steps, c.finetuneSteps, r.tokensPerSecond]).toEqual([0, 0, 0]);
    expect(r.validPpl).toBe(c.validPplBefore);
    expect(r.testPpl).toBe(c.testPplBefore);
    expect(c).toMatchObject({ baselineTrialId: 't1', baselineParams: baseline.params, baselineValidPpl: baseline.validPpl });
    for (const m of ['embedding', 'softmax']) expect(c.matrices[m]).toMatchObject({ rows: 360, cols: 40, ranks: [9], params: 9 * 400, rate: 4 });
    expect(r.params).toBe(baseline.params - 2 * (360 * 40 - 9 * 400));
    expect(r.paramsByLayer).toEqual({ embedding: 3600, 'lstm.0': baseline.paramsByLayer['lstm.0'], softmax: 3600 + 360 });
    // Rank 9 of 40 on both matrices keeps a language model close to the baseline (this briefly
    // trained baseline even gains a little: the truncation acts as a regularizer).
    expect(Math.abs(Math.log(r.validPpl / baseline.validPpl))).toBeLessThan(Math.log(1.5));
  });

  it('weighted error is reported as the algorithms define it, and fine-tuning moves the model', async () => {
    const config = compressed('groupreduce', { target: 'softmax', rate: 4, blocks: 5, iters: 3, finetune: { maxSteps: 20 } });
    const r = await runTrial({ config, seed: 0, corpus: ptb, baseline: { trialId: 't1', checkpoint } });
    const c = r.compression!;
    expect(Object.keys(c.matrices)).toEqual(['softmax']);
    // Recompute the softmax's factorization from the checkpoint: same ranks, same weighted error.
    const ckpt = decodeCheckpoint(checkpoint);
    const q = trainFrequencies(ptb.train, 360);
    const again = compressCheckpointMatrices(ckpt.tensors, config.model, 360, q, 'groupreduce', config.compress!);
    expect(c.matrices['softmax']!.ranks).toEqual(again.reports['softmax']!.ranks);
    expect(c.matrices['softmax']!.werr).toBeCloseTo(weightedError({ data: transposeSoftmax(ckpt.tensors['softmax/W']!.data as Float32Array), rows: 360, cols: 40 }, q, again.softmax!), 10);
    expect(reconstruct(again.softmax!).length).toBe(360 * 40);
    // The refinement travels with the result: words moved per iteration, the error of each iterate, the one kept (the least).
    const ref = c.matrices['softmax']!.refinement!;
    expect(ref).toEqual({ moved: again.softmax!.refinement!.moved, werr: again.softmax!.refinement!.errors, kept: again.softmax!.refinement!.best });
    expect(ref.werr[ref.kept]).toBeCloseTo(c.matrices['softmax']!.werr, 10);
    expect(c.finetuneSteps).toBe(20);
    expect(r.validPpl).not.toBe(c.validPplBefore);
    expect(r.params).toBe(baseline.params - (360 * 40 - again.softmax!.params));
  });

  it('weightPower reweights the weighted methods: at 0 weighted SVD is plain SVD; the reported error stays weighted by q', () => {
    const ckpt = decodeCheckpoint(checkpoint);
    const q = trainFrequencies(ptb.train, 360);
    const opts = (weightPower?: number) => TrialConfig.parse({ ...dense, method: 'weighted-svd', compress: { target: 'softmax', rate: 4, ...(weightPower === undefined ? {} : { weightPower }) } }).compress!;
    const svd = compressCheckpointMatrices(ckpt.tensors, dense.model, 360, q, 'svd', opts());
    const flat = compressCheckpointMatrices(ckpt.tensors, dense.model, 360, q, 'weighted-svd', opts(0));
    const byQ = compressCheckpointMatrices(ckpt.tensors, dense.model, 360, q, 'weighted-svd', opts());
    const bySqrt = compressCheckpointMatrices(ckpt.tensors, dense.model, 360, q, 'weighted-svd', opts(0.5));
    expect(flat.reports['softmax']!.werr).toBeCloseTo(svd.reports['softmax']!.werr, 6);
    // Weighted by q, the q-weighted error is the least of the three; √q lies between.
    const [e0, e5, e1] = [flat, bySqrt, byQ].map((c) => c.reports['softmax']!.werr);
    expect(e1!).toBeLessThan(e5!);
    expect(e5!).toBeLessThan(e0!);
    // The error with every word alike orders the other way: plain SVD is its least (Eckart–Young),
    // and the more the weights lean on frequent words, the more it grows.
    const [u0, u5, u1] = [flat, bySqrt, byQ].map((c) => c.reports['softmax']!.error!);
    expect(svd.reports['softmax']!.error!).toBeCloseTo(u0!, 6);
    expect(u0!).toBeLessThan(u5!);
    expect(u5!).toBeLessThan(u1!);
    const W = transposeSoftmax(ckpt.tensors['softmax/W']!.data as Float32Array);
    expect(u1!).toBeCloseTo(weightedError({ data: W, rows: 360, cols: 40 }, new Float64Array(360).fill(1), byQ.softmax!), 10);
  });

  it("meets the paper's setting on full-PTB-sized matrices: rate 5 in 5 blocks on a 10000×200 embedding and softmax", () => {
    // Before, block-weighted SVD refused it (the nearest common rank 36 gives 5.0505).
    const V = 10_000;
    let s = 3;
    const r = () => ((s = (s * 1103515245 + 12345) >>> 0), s / 4294967296 - 0.5);
    const weights = { 'embedding/E': { shape: [V, 200], data: Float32Array.from({ length: V * 200 }, r) }, 'softmax/W': { shape: [200, V], data: Float32Array.from({ length: 200 * V }, r) } };
    const q = Float64Array.from({ length: V }, (_, i) => 1 / (i + 1));
    const options = TrialConfig.parse({ ...dense, method: 'block-weighted-svd', compress: { target: 'both', rate: 5, blocks: 5 } }).compress!;
    const c = compressCheckpointMatrices(weights, { embedding: 200, hidden: 200 }, V, q, 'block-weighted-svd', options);
    for (const m of ['embedding', 'softmax']) {
      expect(c.reports[m]).toMatchObject({ rows: V, cols: 200, ranks: [37, 37, 36, 36, 36], params: 400_400 });
      expect(Math.abs(c.reports[m]!.rate - 5) / 5).toBeLessThanOrEqual(0.01);
    }
    const high = TrialConfig.parse({ ...dense, method: 'groupreduce', compress: { target: 'softmax', rate: 2000, blocks: 5 } }).compress!;
    expect(() => compressCheckpointMatrices(weights, { embedding: 200, hidden: 200 }, V, q, 'groupreduce', high)).toThrow(
      /^softmax \(10000×200\): rate 2000 is impossible for groupreduce within 1%: rank 1 in each of 5 blocks already costs 11000 parameters/,
    );
  });

  it('refuses to run without its baseline, on another vocabulary, or at a rate its method cannot meet', async () => {
    await expect(runTrial({ config: compressed('svd', { rate: 4 }), seed: 0, corpus: ptb })).rejects.toThrow(/needs its baseline trial's checkpoint/);
    const other = await loadCorpus(resolveDataset('ptb', datasetSearchDirs()), { vocabSize: 300 });
    await expect(runTrial({ config: compressed('svd', { rate: 4 }), seed: 0, corpus: other, baseline: { trialId: 't1', checkpoint } })).rejects.toThrow(/another vocabulary \(360 words/);
    const bad = runTrial({ config: compressed('svd', { rate: 3.5, finetune: { epochs: 0 } }), seed: 0, corpus: ptb, baseline: { trialId: 't1', checkpoint } });
    await expect(bad).rejects.toBeInstanceOf(TrialConfigError);
    await expect(bad).rejects.toThrow(/rate 3.5 is impossible for svd within 1%/);
  });
});

function transposeSoftmax(w: Float32Array): Float32Array {
  const out = new Float32Array(360 * 40);
  for (let i = 0; i < 40; i++) for (let j = 0; j < 360; j++) out[j * 40 + i] = w[i * 360 + j]!;
  return out;
}
