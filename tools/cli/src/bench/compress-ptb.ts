// The PTB half of `lmsweep bench compress`: train an LSTM LM on PTB once, then compress its
// embedding and softmax with every method at rates 2, 5 and 10 and fine-tune each, through the
// same runTrial a worker runs: weighted error, seconds, perplexity before and after fine-tuning.
import { COMPRESSION_METHODS } from '@lmsweep/algorithms';
import { type TrialResult, TrialConfig } from '@lmsweep/protocol';
import { datasetSearchDirs, loadCorpus, resolveDataset, runTrial, selectBackend, TrialConfigError } from '@lmsweep/nn';
import { table } from '../format.ts';

const RATES = [2, 5, 10];

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
  return n;
}

export interface PtbBenchOptions {
  json: boolean;
  out: (line: string) => void;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

/**
 * Settings (environment): LMSWEEP_BENCH_PTB_VOCAB (10000), _WIDTH (embedding = hidden, 256: the
 * width at which rates 2, 5 and 10 are all reachable by a single rank within 1% on 10000 words),
 * _TRAIN_STEPS (400), _FINETUNE_STEPS (100; 2323 is one epoch of 20×20 windows),
 * _EVAL_TOKENS (20000 of valid and test; 0 = the whole splits). LMSWEEP_BENCH_PTB_TRAIN_STEPS=0
 * skips the PTB half.
 */
export async function benchCompressPtb(o: PtbBenchOptions): Promise<void> {
  const vocabSize = envInt('LMSWEEP_BENCH_PTB_VOCAB', 10_000);
  const width = envInt('LMSWEEP_BENCH_PTB_WIDTH', 256);
  const trainSteps = envInt('LMSWEEP_BENCH_PTB_TRAIN_STEPS', 400);
  const finetuneSteps = envInt('LMSWEEP_BENCH_PTB_FINETUNE_STEPS', 100);
  const evalTokens = envInt('LMSWEEP_BENCH_PTB_EVAL_TOKENS', 20_000);
  if (trainSteps === 0) return;
  const log = o.log ?? (() => {});
  const backend = await selectBackend('auto');
  const corpus = await loadCorpus(resolveDataset('ptb', datasetSearchDirs()), { vocabSize });
  const dense = TrialConfig.parse({
    dataset: { name: 'ptb', vocabSize },
    model: { embedding: width, hidden: width, layers: 1 },
    training: { batchSize: 20, unroll: 20, optimizer: 'adam', lr: 0.003, clip: 1 },
    budget: { maxSteps: trainSteps, ...(evalTokens ? { evalTokens } : {}) },
  });
  const step = (what: string) => (p: { step: number; totalSteps: number; etaSeconds: number }) => {
    if (p.step === p.totalSteps || p.step % 50 === 0) log(`${what}: step ${p.step}/${p.totalSteps}, ${Math.round(p.etaSeconds)} s left`);
  };
  let checkpoint: Uint8Array | undefined;
  log(`PTB: training the baseline (${vocabSize} words, ${width}-wide 1-layer LSTM, ${trainSteps} steps) on ${backend.backend}`);
  const base = await runTrial({ config: dense, seed: 0, corpus, onProgress: step('baseline'), onCheckpoint: async (c) => void (checkpoint = c) });
  const emit = (r: Record<string, unknown>) => o.json && o.out(JSON.stringify(r));
  emit({ kind: 'ptb-baseline', vocab: vocabSize, width, steps: trainSteps, params: base.params, validPpl: base.validPpl, testPpl: base.testPpl, seconds: base.seconds, backend: backend.backend });
  const rows: string[][] = [];
  const total = RATES.length * COMPRESSION_METHODS.length;
  let done = 0;
  for (const rate of RATES) {
    for (const method of COMPRESSION_METHODS) {
      log(`PTB: ${method} at rate ${rate} (${++done}/${total})`);
      const config = TrialConfig.parse({ ...dense, method, compress: { target: 'both', rate, blocks: 10, iters: 3, finetune: { maxSteps: finetuneSteps, lr: 0.001 } } });
      let r: TrialResult | undefined;
      let error: string | undefined;
      try {
        r = await runTrial({ config, seed: 0, corpus, baseline: { trialId: 'bench-baseline', checkpoint: checkpoint! }, onProgress: step(`  fine-tune`) });
      } catch (e) {
        if (!(e instanceof TrialConfigError)) throw e;
        error = e.message.replace(/^[\w-]+: (?:\w+ \(\d+×\d+\): )?rate [\d.]+ is impossible for [\w-]+ within [\d.]+%: /, 'refused: ');
      }
      const c = r?.compression;
      const m = (name: string) => c?.matrices[name];
      emit({
        kind: 'ptb-method', method, targetRate: rate,
        ...(c && r
          ? { rate: { embedding: m('embedding')!.rate, softmax: m('softmax')!.rate }, werr: { embedding: m('embedding')!.werr, softmax: m('softmax')!.werr }, compressSeconds: m('embedding')!.seconds + m('softmax')!.seconds, params: r.params, validPplBefore: c.validPplBefore, validPplAfter: r.validPpl, testPplAfter: r.testPpl, finetuneSteps: c.finetuneSteps }
          : { error }),
      });
      rows.push(
        c && r
          ? [String(rate), method, m('embedding')!.rate.toFixed(3), m('embedding')!.werr.toFixed(4), m('softmax')!.werr.toFixed(4), (m('embedding')!.seconds + m('softmax')!.seconds).toFixed(2), String(r.params), c.validPplBefore.toFixed(1), r.validPpl.toFixed(1)]
          : [String(rate), method, error ?? 'failed', '-', '-', '-', '-', '-', '-'],
      );
    }
  }
  if (!o.json) {
    o.out('');
    o.out(`PTB: ${vocabSize}-word vocabulary, ${width}-d embedding and 1×${width} LSTM trained ${trainSteps} Adam steps (${base.params} params, valid ppl ${base.validPpl.toFixed(1)}${evalTokens ? ` on the first ${evalTokens} tokens` : ''}); ${backend.backend}`);
    o.out(`embedding and softmax compressed (10 blocks, 3 GroupReduce iterations), then ${finetuneSteps} fine-tuning steps at lr 0.001`);
    o.out(table(['target', 'method', 'rate', 'werr emb', 'werr softmax', 'seconds', 'params', 'ppl before', 'ppl after'], rows));
  }
}
