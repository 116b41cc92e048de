// `lmsweep bench prune --real`: the pruners trained for real. A coordinator on an in-memory
// PGlite and W local worker agents (each with its training process, as `lmsweep worker` runs
// it); one sweep per pruner over the same small space and seeds (REAL_SPACE: the recorded
// space's narrower width, one seed), one after another; per sweep the training tokens spent (its
// trials' steps: a resumed trial counts each step once), the wall time from launch to its end and
// its best configuration's validation perplexity, beside the sweep without a pruner.
import { existsSync } from 'node:fs';
import pino from 'pino';
import { startCoordinator } from '@lmsweep/coordinator';
import { expandSweep, parseSweepSpec, type RecordedCurves } from '@lmsweep/sweep';
import { startWorker, type WorkerHandle } from '@lmsweep/worker';
import { apiClient } from '../client.ts';
import { table } from '../format.ts';
import { DEFAULT_CURVES, PRUNER_ROWS, type PrunerRow, prunerSpecs, readCurves, replayRows } from './prune.ts';

/** The real runs' space: the demo's model at width 64, seven learning rates, one seed, 300 steps (about 15 s a trial here). */
export const REAL_SPACE = `dataset: { name: ptb, vocabSize: 2000 }
model: { embedding: 128, hidden: 64, layers: 1 }
training: { batchSize: 20, unroll: 20, optimizer: adam, lr: 0.003, clip: 1 }
budget: { maxSteps: 300, evalEvery: 10, evalTokens: 4000 }
grid:
  training.lr: [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032]
seeds: 1
`;

export interface RealRow {
  bench: 'prune';
  mode: 'real';
  pruner: PrunerRow;
  trials: number;
  succeeded: number;
  pruned: number;
  promotions: number;
  tokens: number;
  /** Over the none sweep's. */
  tokens_fraction: number;
  seconds: number;
  wall_fraction: number;
  /** The best configuration's validation perplexity (mean over its finished seeds), and its label. */
  best_ppl: number;
  best: string;
  /** best_ppl over the none sweep's best, minus 1. */
  gap: number;
  /** The replay of the same trials' recorded curves (when the recording has them all), over 100 random orders: mean tokens fraction and gap, repetitions within 1%. */
  replay?: { tokens_fraction: number; gap: number; within_1pct: number; repeats: number };
}

/** The recorded curves of exactly the space's trials (configKey and seed), or null when the recording lacks one. */
export function recordedSubset(space: string, curves: RecordedCurves): RecordedCurves | null {
  const plans = expandSweep(parseSweepSpec(`name: subset\n${space}`));
  const trials = plans.map((p) => curves.trials.find((t) => t.configKey === p.configKey && t.seed === p.seed));
  if (trials.some((t) => t === undefined)) return null;
  return { ...curves, trials: trials as RecordedCurves['trials'] };
}

interface TrialRow {
  status: string;
  steps: number | null;
  validPpl: number | null;
  configKey: string;
  promotions: number;
  config: unknown;
}

const lrOf = (config: unknown) => (config as { training?: { lr?: number } }).training?.lr;
const tokensPerStep = (config: unknown) => {
  const t = (config as { training?: { batchSize?: number; unroll?: number } }).training;
  return (t?.batchSize ?? 0) * (t?.unroll ?? 0);
};

export async function realRows(o: { workers: number; minSteps: number; reduction: number; log: (line: string) => void; space?: string }): Promise<RealRow[]> {
  const space = o.space ?? REAL_SPACE;
  const log = pino({ level: 'error' }, pino.destination(2));
  const coordinator = await startCoordinator({ port: 0, databaseUrl: 'memory://', log });
  const workers: WorkerHandle[] = [];
  try {
    for (let i = 0; i < o.workers; i++) workers.push(await startWorker({ coordinatorUrl: coordinator.url, backend: 'wasm', name: `bench-prune-${i}`, quiet: true, log }));
    const api = apiClient(coordinator.url);
    const specs = prunerSpecs(o.minSteps, o.reduction);
    const measured: { pruner: PrunerRow; trials: TrialRow[]; seconds: number }[] = [];
    for (const pruner of PRUNER_ROWS) {
      const spec = `name: bench prune --real (${pruner})\n${space}pruner: ${JSON.stringify(specs[pruner])}\n`;
      const t0 = Date.now();
      const sweep = await api.sweeps.create.mutate({ spec });
      let last = 0;
      for (;;) {
        const s = await api.sweeps.get.query({ id: sweep.id });
        if (s.status !== 'running') break;
        if (Date.now() - last > 5000) {
          last = Date.now();
          const { items } = await coordinator.store.listTrials({ sweepId: sweep.id, limit: 1000 });
          const count = (st: string) => items.filter((t) => t.status === st).length;
          o.log(`bench prune --real: ${pruner}: ${count('succeeded')} finished, ${count('pruned')} pruned, ${count('paused')} paused, ${count('running')} running of ${items.length} trials, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      const seconds = (Date.now() - t0) / 1000;
      const { items } = await coordinator.store.listTrials({ sweepId: sweep.id, limit: 1000 });
      measured.push({ pruner, seconds, trials: items as unknown as TrialRow[] });
      o.log(`bench prune --real: ${pruner} done in ${seconds.toFixed(0)} s`);
    }
    const bestOf = (trials: readonly TrialRow[]) => {
      const by = new Map<string, { vs: number[]; lr: unknown }>();
      for (const t of trials) if (t.status === 'succeeded' && t.validPpl !== null) by.set(t.configKey, { vs: [...(by.get(t.configKey)?.vs ?? []), t.validPpl], lr: lrOf(t.config) });
      let best: { ppl: number; label: string } = { ppl: Number.NaN, label: '–' };
      for (const { vs, lr } of by.values()) {
        const m = vs.reduce((a, b) => a + b, 0) / vs.length;
        if (!(m >= best.ppl)) best = { ppl: m, label: `lr=${String(lr)}` };
      }
      return best;
    };
    const tokensOf = (trials: readonly TrialRow[]) => trials.reduce((a, t) => a + (t.steps ?? 0) * tokensPerStep(t.config), 0);
    const recorded = existsSync(DEFAULT_CURVES) ? recordedSubset(space, readCurves(DEFAULT_CURVES)) : null;
    const replay = recorded ? replayRows(recorded, { workers: o.workers, repeats: 100, minSteps: o.minSteps, reduction: o.reduction }) : null;
    const none = measured.find((m) => m.pruner === 'none')!;
    const noneTokens = tokensOf(none.trials);
    const noneBest = bestOf(none.trials).ppl;
    return measured.map((m) => {
      const best = bestOf(m.trials);
      const tokens = tokensOf(m.trials);
      return {
        bench: 'prune',
        mode: 'real',
        pruner: m.pruner,
        trials: m.trials.length,
        succeeded: m.trials.filter((t) => t.status === 'succeeded').length,
        pruned: m.trials.filter((t) => t.status === 'pruned').length,
        promotions: m.trials.reduce((a, t) => a + t.promotions, 0),
        tokens,
        tokens_fraction: tokens / noneTokens,
        seconds: Math.round(m.seconds * 10) / 10,
        wall_fraction: m.seconds / none.seconds,
        best_ppl: best.ppl,
        best: best.label,
        gap: best.ppl / noneBest - 1,
        ...(replay ? { replay: ((r) => ({ tokens_fraction: r.tokens_fraction, gap: r.gap, within_1pct: r.within_1pct, repeats: r.repeats }))(replay.find((x) => x.pruner === m.pruner)!) } : {}),
      };
    });
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await coordinator.close();
  }
}

export function renderReal(rows: readonly RealRow[]): string[] {
  const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)}%`;
  return [
    `Real training: ${rows[0]?.trials ?? 0} trials per sweep (the demo's PTB LSTM at width 64, seven learning rates, one seed, 300 steps), one sweep per pruner through a coordinator and local workers, in grid order. Reference: the none sweep.`,
    ...(rows[0]?.replay ? [`Beside it, the replay of the same trials' recorded curves over ${rows[0].replay.repeats} random orders: mean tokens fraction, mean gap, repetitions within 1%.`] : []),
    table(
      ['pruner', 'finished', 'pruned', 'promotions', 'tokens', 'vs none', 'wall s', 'vs none', 'best', 'best ppl', 'gap', ...(rows[0]?.replay ? ['replay tokens', 'replay gap', 'replay within 1%'] : [])],
      rows.map((r) => [
        r.pruner, r.succeeded, r.pruned, r.promotions, r.tokens, pct(r.tokens_fraction), r.seconds.toFixed(0), pct(r.wall_fraction), r.best, r.best_ppl.toFixed(2), pct(r.gap, 2),
        ...(r.replay ? [pct(r.replay.tokens_fraction), pct(r.replay.gap, 2), `${r.replay.within_1pct}/${r.replay.repeats}`] : []),
      ]),
    ),
  ];
}
