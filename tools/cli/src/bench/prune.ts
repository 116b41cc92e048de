// `lmsweep bench prune [--json]`: the same space and seeds with none / median / asha / asha with
// promotion. By default a replay (libs/sweep prune-replay) of recorded validation curves
// (prune-curves.json beside this file; --record FILE trains them again): W asynchronous workers
// over R random queue orders, every point judged by the coordinator's planPrune; per pruner the
// training tokens spent as a fraction of the full run's, the simulated wall time, and the
// best-found configuration's full-budget validation perplexity against the full run's best.
// --real trains for real through a coordinator and local worker agents (prune-real.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrunerOptions, prunerSettings, type PrunerSettings } from '@lmsweep/protocol';
import { checkRecording, type RecordedCurves, replaySummary, type ReplaySummary } from '@lmsweep/sweep';
import { table } from '../format.ts';
import { parseOptions, UsageError } from '../options.ts';
import { PRUNE_BENCH } from './options.ts';

export const DEFAULT_CURVES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'prune-curves.json');
/** ASHA's defaults here: chosen on the committed recording so that asha with promotion meets the goal (README, Benchmarks). */
export const DEFAULT_MIN_STEPS = 50;
export const DEFAULT_REDUCTION = 12;
/** The goal: within 1% of the full run's best validation perplexity, at most 35% of its training tokens. */
export const GOAL = { gap: 0.01, tokens: 0.35, repetitions: 0.95 } as const;

export const PRUNER_ROWS = ['none', 'median', 'asha', 'asha+promotion'] as const;
export type PrunerRow = (typeof PRUNER_ROWS)[number];

/** Each row's pruner as a spec writes it (launch's defaults for the rest). */
export function prunerSpecs(minSteps: number, reduction: number): Record<PrunerRow, unknown> {
  return {
    none: { type: 'none' },
    median: { type: 'median' },
    asha: { type: 'asha', minSteps, reduction },
    'asha+promotion': { type: 'asha', minSteps, reduction, promotion: true },
  };
}

/** The settings a sweep with that pruner and the recording's budget runs (protocol's prunerSettings: launch's checks and defaults). */
export function settingsFor(pruner: unknown, budget: { maxSteps: number; evalEvery: number }): PrunerSettings {
  const parsed = PrunerOptions.safeParse(pruner);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '));
  try {
    return prunerSettings({ pruner: parsed.data, budget });
  } catch (e) {
    const issues = (e as { issues?: { path: string; message: string }[] }).issues;
    throw new UsageError(issues ? issues.map((i) => `${i.path === 'pruner.minSteps' ? '--min-steps' : i.path}: ${i.message}`).join('; ') : (e as Error).message);
  }
}

export interface ReplayRow {
  bench: 'prune';
  mode: 'replay';
  pruner: PrunerRow;
  settings: string;
  workers: number;
  repeats: number;
  /** Training tokens over the full run's: mean, its 95% interval, the largest. */
  tokens_fraction: number;
  tokens_ci: [number, number];
  tokens_max: number;
  /** Simulated wall time over the full run's (same order). */
  wall_fraction: number;
  wall_ci: [number, number];
  /** The full run's best configuration (full-budget validation perplexity, mean over its seeds). */
  full_best_ppl: number;
  /** The best-found configuration's full-budget perplexity, mean over repetitions. */
  found_ppl: number;
  /** found / full best − 1: mean, 95% interval, largest. */
  gap: number;
  gap_ci: [number, number];
  gap_max: number;
  /** Repetitions whose best-found configuration is within 1% of the full run's best, and the fraction's 95% (Wilson) interval. */
  within_1pct: number;
  within_1pct_ci: [number, number];
  /** Repetitions within 1% that spent at most 35% of the full run's tokens (the goal, per repetition). */
  goal_runs: number;
  pauses: number;
  promotions: number;
  stopped: number;
}

export function readCurves(file: string): RecordedCurves {
  let c: RecordedCurves;
  try {
    c = JSON.parse(readFileSync(file, 'utf8')) as RecordedCurves;
  } catch (e) {
    throw new UsageError(`--curves ${file}: ${(e as Error).message}`);
  }
  try {
    checkRecording(c);
  } catch (e) {
    throw new UsageError(`--curves ${file}: ${(e as Error).message}`);
  }
  return c;
}

const settingsText = (s: PrunerSettings) =>
  s.type === 'none' ? 'every trial to the end' : s.type === 'median' ? `warmupTrials ${s.warmupTrials}, warmupSteps ${s.warmupSteps}` : `rungs at ${rungList(s)} steps, η ${s.reduction}`;

function rungList(s: Extract<PrunerSettings, { type: 'asha' }>): string {
  const out: number[] = [];
  for (let r = s.minResource; r < s.maxResource; r *= s.reduction) out.push(r);
  return out.join(', ');
}

/** The replay's rows: one per pruner. */
export function replayRows(c: RecordedCurves, o: { workers: number; repeats: number; minSteps: number; reduction: number }): ReplayRow[] {
  const specs = prunerSpecs(o.minSteps, o.reduction);
  return PRUNER_ROWS.map((pruner) => {
    const settings = settingsFor(specs[pruner], { maxSteps: c.maxSteps, evalEvery: c.evalEvery });
    const s: ReplaySummary = replaySummary(c, { settings, workers: o.workers, repeats: o.repeats });
    return {
      bench: 'prune',
      mode: 'replay',
      pruner,
      settings: settingsText(settings),
      workers: o.workers,
      repeats: o.repeats,
      tokens_fraction: s.tokens.mean,
      tokens_ci: s.tokens.ci,
      tokens_max: s.tokens.max,
      wall_fraction: s.wall.mean,
      wall_ci: s.wall.ci,
      full_best_ppl: s.fullBest,
      found_ppl: s.found,
      gap: s.gap.mean,
      gap_ci: s.gap.ci,
      gap_max: s.gap.max,
      within_1pct: s.within1,
      within_1pct_ci: s.within1Ci,
      goal_runs: s.perRun.filter((r) => r.gap <= GOAL.gap && r.tokens <= GOAL.tokens).length,
      pauses: s.pauses,
      promotions: s.promotions,
      stopped: s.stopped,
    };
  });
}

/** Whether a row meets the goal: in at least 95% of the repetitions, within 1% of the full run's best for at most 35% of its tokens. */
export function meetsGoal(r: Pick<ReplayRow, 'goal_runs' | 'repeats'>): boolean {
  return r.goal_runs >= GOAL.repetitions * r.repeats;
}

const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)}%`;
const interval = (ci: readonly [number, number], d = 1) => `[${pct(ci[0], d)}, ${pct(ci[1], d)}]`;

export function renderReplay(rows: readonly ReplayRow[], c: RecordedCurves, file: string): string[] {
  const configs = new Set(c.trials.map((t) => t.configKey)).size;
  const seeds = Math.round(c.trials.length / configs);
  const r0 = rows[0]!;
  const out = [
    `Replay of ${path.basename(file)}: ${configs} configurations × ${seeds} seeds, ${c.maxSteps} steps of ${c.tokensPerStep} tokens, validation every ${c.evalEvery} steps; ${r0.workers} asynchronous workers, ${r0.repeats} random queue orders.`,
    `Reference: the full run (none), ${c.trials.length * c.maxSteps * c.tokensPerStep} training tokens; its best configuration's validation perplexity ${r0.full_best_ppl.toFixed(2)}. Fractions are of that run; mean [95% interval of the mean], and the largest.`,
    table(
      ['pruner', 'settings', 'tokens', 'tokens max', 'wall time', 'found ppl', 'gap', 'gap max', 'within 1%', 'pauses', 'promotions'],
      rows.map((r) => [
        r.pruner,
        r.settings,
        `${pct(r.tokens_fraction)} ${interval(r.tokens_ci)}`,
        pct(r.tokens_max),
        `${pct(r.wall_fraction)} ${interval(r.wall_ci)}`,
        r.found_ppl.toFixed(2),
        `${pct(r.gap, 2)} ${interval(r.gap_ci, 2)}`,
        pct(r.gap_max, 2),
        `${r.within_1pct}/${r.repeats} ${interval(r.within_1pct_ci, 0)}`,
        r.pauses.toFixed(1),
        r.promotions.toFixed(1),
      ]),
    ),
  ];
  const promo = rows.find((r) => r.pruner === 'asha+promotion');
  if (promo) {
    out.push(
      `goal: asha+promotion within 1% of the full run's best validation perplexity for at most ${pct(GOAL.tokens, 0)} of its training tokens, in ≥${GOAL.repetitions * 100}% of repetitions: ` +
        `${promo.goal_runs}/${promo.repeats} (${promo.within_1pct} within 1%; tokens ${pct(promo.tokens_fraction)} on average, at most ${pct(promo.tokens_max)}): ${meetsGoal(promo) ? 'met' : 'NOT met'}`,
    );
  }
  return out;
}

export async function benchPrune(ctx: { json: boolean; out: (line: string) => void; args: string[] }): Promise<void> {
  const { values } = parseOptions({ options: PRUNE_BENCH.options }, ctx.args);
  const minSteps = values['min-steps'] ?? DEFAULT_MIN_STEPS;
  const reduction = values.reduction ?? DEFAULT_REDUCTION;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (values.real) {
    if (values.record || values.curves) throw new UsageError('--real trains for real: it takes no --curves or --record');
    const { realRows, renderReal } = await import('./prune-real.ts');
    const rows = await realRows({ workers: values.workers ?? 2, minSteps, reduction, log });
    if (ctx.json) for (const r of rows) ctx.out(JSON.stringify(r));
    else for (const line of renderReal(rows)) ctx.out(line);
    return;
  }
  let file = values.curves ?? DEFAULT_CURVES;
  if (values.record) {
    if (values.curves) throw new UsageError('--record FILE writes the curves it then replays: it takes no --curves');
    const { recordCurvesTo } = await import('./prune-record.ts');
    const c = await recordCurvesTo(values.record, { log });
    log(`wrote ${values.record}: ${c.trials.length} trials, ${c.seconds} s of training`);
    file = values.record;
  }
  const curves = readCurves(file);
  const rows = replayRows(curves, { workers: values.workers ?? 4, repeats: values.repeats, minSteps, reduction });
  if (ctx.json) {
    for (const r of rows) ctx.out(JSON.stringify(r));
    const promo = rows.find((r) => r.pruner === 'asha+promotion')!;
    ctx.out(JSON.stringify({ bench: 'prune', mode: 'replay', goal: { gap: GOAL.gap, tokens: GOAL.tokens, repetitions: GOAL.repetitions }, met: meetsGoal(promo) }));
    return;
  }
  for (const line of renderReplay(rows, curves, file)) ctx.out(line);
}
