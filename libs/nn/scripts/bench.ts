// Measures training and evaluation speed on PTB: npx tsx libs/nn/scripts/bench.ts [backend]
import * as tf from '@tensorflow/tfjs-core';
import { TrialConfig } from '@lmsweep/protocol';
import { datasetSearchDirs, evaluatePerplexity, loadCorpus, LstmLm, resolveDataset, runTrial, selectBackend } from '../src/index.ts';

const backend = process.argv[2] ?? 'wasm';
const info = await selectBackend(backend as 'wasm');
const out = (s: string) => process.stdout.write(`${s}\n`);
out(`backend ${info.backend}: ${info.device}`);
const dir = resolveDataset('ptb', datasetSearchDirs());

async function train(name: string, vocabSize: number, model: object, steps: number) {
  const corpus = await loadCorpus(dir, { vocabSize });
  const config = TrialConfig.parse({ dataset: { name: 'ptb', vocabSize }, model, budget: { maxSteps: steps, evalTokens: 200 } });
  let t0 = 0;
  let c0 = process.cpuUsage();
  let t1 = 0;
  let c1 = c0;
  const r = await runTrial({
    config,
    seed: 0,
    corpus,
    onProgress: (p) => {
      if (p.step === 2) {
        t0 = performance.now();
        c0 = process.cpuUsage();
      }
      if (p.step === steps) {
        t1 = performance.now();
        c1 = process.cpuUsage(c0);
      }
    },
  });
  const tokens = (steps - 2) * 400;
  const wall = tokens / ((t1 - t0) / 1000);
  const cpu = tokens / ((c1.user + c1.system) / 1e6);
  out(`${name}: vocab ${corpus.vocab.length}, ${r.params} params: after step 2, ${wall.toFixed(0)} tok/s wall, ${cpu.toFixed(0)} tok/s per CPU-second; loss ${r.trainLoss?.toFixed(3)}`);
  return corpus;
}

const ptb = await train('PTB small (V 10000, 200/200, 2 layers, 20×20)', 10000, { embedding: 200, hidden: 200, layers: 2 }, Number(process.env.STEPS ?? 8));
{
  const big = new LstmLm(10000, { embedding: 200, hidden: 200, layers: 2, dropout: 0, initScale: 0.1 }, 0);
  const t0 = performance.now();
  const r = await evaluatePerplexity(big, ptb.valid.subarray(0, 7000), { eosId: ptb.vocab.indexOf('<eos>') });
  const s = (performance.now() - t0) / 1000;
  out(`PTB small eval: ${(r.tokens / s).toFixed(0)} tok/s (whole valid split ≈ ${((ptb.valid.length / r.tokens) * s).toFixed(0)} s)`);
  big.dispose();
}
const tinyCorpus = await train('tiny (V 1000, 32/32, 1 layer, 20×20)', 1000, { embedding: 32, hidden: 32, layers: 1 }, 40);
const model = new LstmLm(1000, { embedding: 32, hidden: 32, layers: 1, dropout: 0, initScale: 0.1 }, 0);
for (const batchSize of [20, 64]) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await evaluatePerplexity(model, tinyCorpus.valid, { eosId: tinyCorpus.vocab.indexOf('<eos>'), batchSize });
  const c = process.cpuUsage(c0);
  out(`tiny eval of PTB valid (${r.tokens} tokens, batch ${batchSize}): ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${((c.user + c.system) / 1e6).toFixed(2)} CPU-s; ppl ${r.perplexity.toFixed(1)} (untrained)`);
}
model.dispose();
out(`tensors left: ${tf.memory().numTensors}`);

// Demo-sized trials end to end: 100 steps of 20×20 on PTB and the full valid + test evaluation.
if (process.env.DEMO) {
  for (const [vocabSize, hidden] of [[1000, 32], [1000, 64], [1000, 128], [2000, 64]] as const) {
    const corpus = await loadCorpus(dir, { vocabSize });
    const config = TrialConfig.parse({ dataset: { name: 'ptb', vocabSize }, model: { embedding: hidden, hidden, layers: 1 }, budget: { maxSteps: 100 } });
    const t0 = performance.now();
    const r = await runTrial({ config, seed: 0, corpus });
    const total = (performance.now() - t0) / 1000;
    const trainS = r.tokens / r.tokensPerSecond;
    out(`demo V ${vocabSize} h ${hidden}: 100 steps ${trainS.toFixed(1)} s (${r.tokensPerSecond.toFixed(0)} tok/s), eval valid+test ${(total - trainS).toFixed(1)} s, valid ppl ${r.validPpl.toFixed(1)}`);
  }
}
