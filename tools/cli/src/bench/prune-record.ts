// `lmsweep bench prune --record FILE`: the curves bench prune replays. Every trial of the space
// below (configurations × seeds, the demo's PTB LSTM family) trained to its full budget on this
// machine with runTrial, its validation perplexity recorded every budget.evalEvery steps, and its
// wall seconds; written as one small JSON file (prune-curves.json beside this one is the
// committed recording). No coordinator: a recorded curve is the curve a pruned sweep's trial
// would report, since a pause resumes bit for bit (apps/worker/test/pruning.int.test.ts).
import { writeFileSync } from 'node:fs';
import { datasetSearchDirs, loadCorpus, resolveDataset, runTrial } from '@lmsweep/nn';
import { variedKeys } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import type { RecordedCurves, RecordedTrial } from '@lmsweep/sweep';

/**
 * The space recorded: the demo's model (PTB with 2,000 words, a 1-layer LSTM, 20×20-token Adam
 * steps, 300 steps) with the learning rate and the width varied, two seeds each; validation
 * perplexity on the first 4,000 valid tokens every 10 steps.
 */
export const PRUNE_SPACE = `name: bench prune — the demo's PTB LSTM, learning rate × width
dataset: { name: ptb, vocabSize: 2000 }
model: { embedding: 128, hidden: 128, layers: 1 }
training: { batchSize: 20, unroll: 20, optimizer: adam, lr: 0.003, clip: 1 }
budget: { maxSteps: 300, evalEvery: 10, evalTokens: 4000 }
grid:
  training.lr: [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032]
  model.hidden: [64, 128]
seeds: 2
`;

export interface RecordOptions {
  spec?: string;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Trains every trial of the space to its budget; the recording. */
export async function recordCurves(o: RecordOptions = {}): Promise<RecordedCurves> {
  const log = o.log ?? (() => {});
  const specText = o.spec ?? PRUNE_SPACE;
  const spec = parseSweepSpec(specText);
  const plans = expandSweep(spec);
  const first = plans[0]!.config;
  const { evalEvery, maxSteps } = first.budget;
  if (!evalEvery || !maxSteps) throw new Error('the recorded space needs budget.evalEvery and budget.maxSteps');
  const dataset = first.dataset;
  const corpus = await loadCorpus(resolveDataset(dataset.name, datasetSearchDirs()), { vocabSize: dataset.vocabSize });
  const keys = variedKeys(spec);
  const started = Date.now();
  const trials: RecordedTrial[] = [];
  for (const [i, plan] of plans.entries()) {
    const valid = new Map<number, number>();
    const t0 = Date.now();
    const result = await runTrial({
      config: plan.config,
      seed: plan.seed,
      corpus,
      onMetrics: (points) => {
        for (const p of points) if (p.name === 'valid_ppl' && p.step > 0) valid.set(p.step, p.value);
      },
    });
    const seconds = (Date.now() - t0) / 1000;
    const steps = Array.from({ length: Math.floor(maxSteps / evalEvery) }, (_, k) => (k + 1) * evalEvery);
    const values = steps.map((s) => valid.get(s));
    if (values.some((v) => v === undefined)) throw new Error(`trial ${plan.configKey}/${plan.seed}: no validation point at some multiple of ${evalEvery}`);
    const label = keys.map((k) => `${k.split('.').pop()}=${String(lookup(plan.config, k))}`).join(' ');
    trials.push({ configKey: plan.configKey, label, seed: plan.seed, seconds: round2(seconds), valid: values.map((v) => round2(v!)) });
    log(`recorded ${i + 1}/${plans.length}: ${label} seed ${plan.seed}, valid ppl ${result.validPpl.toFixed(1)} after ${maxSteps} steps, ${seconds.toFixed(0)} s (${((Date.now() - started) / 1000).toFixed(0)} s so far)`);
  }
  const seconds = (Date.now() - started) / 1000;
  const configs = new Set(trials.map((t) => t.configKey)).size;
  return {
    about: `Validation curves of ${trials.length} trials (${configs} configurations × ${trials.length / configs} seeds) trained to their full budget by \`lmsweep bench prune --record\` in ${seconds.toFixed(0)} s on ${new Date().toISOString().slice(0, 10)} (2 shared CPU cores, wasm with the native kernels); bench prune replays them.`,
    spec: specText,
    evalEvery,
    maxSteps,
    tokensPerStep: first.training.batchSize * first.training.unroll,
    seconds: Math.round(seconds),
    trials,
  };
}

function lookup(obj: unknown, dotted: string): unknown {
  let cur: unknown = obj;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Records and writes FILE. */
export async function recordCurvesTo(file: string, o: RecordOptions = {}): Promise<RecordedCurves> {
  const curves = await recordCurves(o);
  writeFileSync(file, `${JSON.stringify(curves, null, 0)}\n`);
  return curves;
}
