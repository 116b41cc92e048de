// Replaying a pruned sweep over recorded learning curves, pure (bench prune's default mode): W
// asynchronous workers train the recorded trials of a grid, queued in a random order of its
// configurations (each one's seeds together, as a grid launches them), and every validation
// point is judged the way the coordinator judges it: planPrune (prune-plan.ts) over the sweep as
// it stands, the verdict applied at once, then the promotions and closures it plans, and again
// after every trial ends (a pause stored, a trial pruned or finished). A trial's last point (the
// final evaluation, step = maxSteps) is never judged: the worker marks judge only on a
// validation point at 0 < step < totalSteps. A paused trial keeps its place in the queue and
// resumes from its step when promoted (queue order is by position: it goes before the trials
// not started yet, as a promoted trial keeps its queueSeq). Time: each evalEvery steps of a trial
// take its recorded seconds × evalEvery / maxSteps; checkpoints and verdicts take none.
import type { PrunerSettings } from '@lmsweep/protocol';
import { Rng } from '@lmsweep/search';
import { planPrune, type PrunePlan, type PruneTrialView } from './prune-plan.ts';

/** One recorded trial: its validation perplexity at evalEvery, 2·evalEvery, …, maxSteps. */
export interface RecordedTrial {
  configKey: string;
  /** The varied values, for people ("lr=0.002 hidden=64"). */
  label: string;
  seed: number;
  /** Wall seconds of its full run (training and evaluations). */
  seconds: number;
  valid: number[];
}

/** A recording (bench prune --record). */
export interface RecordedCurves {
  about: string;
  /** The sweep spec recorded (YAML). */
  spec: string;
  evalEvery: number;
  maxSteps: number;
  tokensPerStep: number;
  /** Wall seconds the recording took. */
  seconds: number;
  trials: RecordedTrial[];
}

export interface ReplayOptions {
  settings: PrunerSettings;
  /** Asynchronous workers (default 4). */
  workers?: number;
  /** Seeds the order the configurations are queued in. */
  seed: number;
  /** The coordinator's decisions (default planPrune; a test may wrap it to watch what is judged). */
  plan?: typeof planPrune;
}

/** One replayed sweep. */
export interface ReplayRun {
  /** Training tokens spent, all trials together. */
  tokens: number;
  /** Simulated wall seconds until the sweep ends. */
  seconds: number;
  /** The configuration the sweep ends with: the best mean final value over its finished seeds (null: none finished). */
  best: string | null;
  /** That configuration's full-budget validation perplexity (the mean over all its recorded seeds). */
  bestValue: number;
  /** Trials that ran their whole budget. */
  finished: number;
  /** Reports judged, pauses, promotions (resumes), trials stopped (closures included). */
  judged: number;
  pauses: number;
  promotions: number;
  stopped: number;
}

type Status = 'queued' | 'running' | 'paused' | 'succeeded' | 'pruned';

interface SimTrial {
  id: string;
  rec: RecordedTrial;
  status: Status;
  step: number;
  points: { step: number; value: number }[];
  /** When its next evaluation interval ends (running only). */
  until: number;
}

/** Checks a recording's shape: every curve has one value per evalEvery up to maxSteps. */
export function checkRecording(c: RecordedCurves): void {
  if (!(c.evalEvery > 0) || !(c.maxSteps > 0) || c.maxSteps % c.evalEvery !== 0) throw new Error(`a recording needs maxSteps (${c.maxSteps}) a multiple of evalEvery (${c.evalEvery})`);
  const n = c.maxSteps / c.evalEvery;
  if (!c.trials.length) throw new Error('a recording without trials');
  for (const t of c.trials) if (t.valid.length !== n) throw new Error(`trial ${t.configKey}/${t.seed}: ${t.valid.length} values, expected ${n} (every ${c.evalEvery} steps to ${c.maxSteps})`);
}

/** Each configuration's full-budget value: the mean over its recorded seeds of the last value. */
export function fullBudgetValues(c: RecordedCurves): Map<string, number> {
  const by = new Map<string, number[]>();
  for (const t of c.trials) by.set(t.configKey, [...(by.get(t.configKey) ?? []), t.valid[t.valid.length - 1]!]);
  return new Map([...by].map(([k, vs]) => [k, vs.reduce((a, b) => a + b, 0) / vs.length] as const));
}

/** The configurations in a random order (seeded), each one's seeds together in seed order: the queue. */
function queueOrder(c: RecordedCurves, seed: number): RecordedTrial[] {
  const keys = [...new Set(c.trials.map((t) => t.configKey))];
  const rng = new Rng(seed);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  return keys.flatMap((k) => c.trials.filter((t) => t.configKey === k).sort((a, b) => a.seed - b.seed));
}

/** One sweep replayed over the recording with the given pruner. */
export function replaySweep(c: RecordedCurves, o: ReplayOptions): ReplayRun {
  checkRecording(c);
  const workers = o.workers ?? 4;
  const { evalEvery, maxSteps, tokensPerStep } = c;
  const trials: SimTrial[] = queueOrder(c, o.seed).map((rec, i) => ({ id: `t${i}`, rec, status: 'queued', step: 0, points: [], until: 0 }));
  const byId = new Map(trials.map((t) => [t.id, t] as const));
  const run: ReplayRun = { tokens: 0, seconds: 0, best: null, bestValue: Number.NaN, finished: 0, judged: 0, pauses: 0, promotions: 0, stopped: 0 };
  const plan = o.plan ?? planPrune;
  let now = 0;
  const views = (): PruneTrialView[] =>
    trials.map((t) => ({ id: t.id, configKey: t.rec.configKey, seed: t.rec.seed, status: t.status, parentId: null, hasChildren: false, pausing: false, tokensPerStep, points: t.points }));
  const apply = (outcome: PrunePlan) => {
    for (const p of outcome.promote) {
      const t = byId.get(p.trialId)!;
      if (t.status !== 'paused') continue;
      t.status = 'queued';
      run.promotions++;
    }
    for (const cl of outcome.close) {
      const t = byId.get(cl.trialId)!;
      if (t.status !== 'paused') continue;
      t.status = 'pruned';
      run.stopped++;
    }
  };
  const step = () => apply(plan(views(), o.settings, false));
  const dispatch = () => {
    let free = workers - trials.filter((t) => t.status === 'running').length;
    for (const t of trials) {
      if (free <= 0) break;
      if (t.status !== 'queued') continue;
      t.status = 'running';
      t.until = now + (t.rec.seconds * evalEvery) / maxSteps;
      free--;
    }
  };
  dispatch();
  for (;;) {
    let next: SimTrial | undefined;
    for (const t of trials) if (t.status === 'running' && (!next || t.until < next.until)) next = t;
    if (!next) break;
    const t = next;
    now = t.until;
    t.step += evalEvery;
    run.tokens += evalEvery * tokensPerStep;
    const value = t.rec.valid[t.step / evalEvery - 1]!;
    t.points.push({ step: t.step, value });
    if (o.settings.type === 'none' && t.step < maxSteps) {
      // A sweep without a pruner: its trials are not judged.
      t.until = now + (t.rec.seconds * evalEvery) / maxSteps;
    } else if (t.step >= maxSteps) {
      // The final evaluation: the trial's result, never judged.
      t.status = 'succeeded';
      run.finished++;
      step();
    } else {
      run.judged++;
      const judged = plan(views(), o.settings, false, { trialId: t.id, step: t.step, value });
      const verdict = judged.verdict!;
      if (verdict.action === 'stop') {
        t.status = 'pruned';
        run.stopped++;
      } else if (verdict.action === 'pause') {
        t.status = 'paused';
        run.pauses++;
      }
      apply(judged);
      if (t.status === 'running') t.until = now + (t.rec.seconds * evalEvery) / maxSteps;
      else step();
    }
    dispatch();
  }
  // Nothing runs or is queued: a trial still paused is pruned where it waits (planPrune closes them; this is the guard).
  for (const t of trials) if (t.status === 'paused') t.status = 'pruned';
  run.seconds = now;
  const finals = new Map<string, number[]>();
  for (const t of trials) if (t.status === 'succeeded') finals.set(t.rec.configKey, [...(finals.get(t.rec.configKey) ?? []), t.rec.valid[t.rec.valid.length - 1]!]);
  let best: [string, number] | null = null;
  for (const [k, vs] of finals) {
    const m = vs.reduce((a, b) => a + b, 0) / vs.length;
    if (!best || m < best[1] || (m === best[1] && k < best[0])) best = [k, m];
  }
  if (best) {
    run.best = best[0];
    run.bestValue = fullBudgetValues(c).get(best[0])!;
  }
  return run;
}

/** A mean and its 95% interval (normal approximation of the mean over runs). */
export interface MeanInterval {
  mean: number;
  ci: [number, number];
  min: number;
  max: number;
}

export function meanInterval(xs: readonly number[]): MeanInterval {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const h = (1.96 * sd) / Math.sqrt(n);
  return { mean, ci: [mean - h, mean + h], min: Math.min(...xs), max: Math.max(...xs) };
}

/** Wilson's 95% interval of a proportion k/n. */
export function proportionInterval(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.96;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [k === 0 ? 0 : Math.max(0, centre - h), k === n ? 1 : Math.min(1, centre + h)];
}

/** A pruner over many replayed orders, against the full run (no pruner) of the same recording. */
export interface ReplaySummary {
  repeats: number;
  /** Training tokens as a fraction of the full run's. */
  tokens: MeanInterval;
  /** Simulated wall time as a fraction of the full run's, order by order. */
  wall: MeanInterval;
  /** The best-found configuration's full-budget perplexity over the full run's best, minus 1. */
  gap: MeanInterval;
  /** Repetitions within 1% of the full run's best, and Wilson's 95% interval of that fraction. */
  within1: number;
  within1Ci: [number, number];
  /** The full run's best full-budget value, and the mean best-found. */
  fullBest: number;
  found: number;
  /** Means per repetition. */
  pauses: number;
  promotions: number;
  stopped: number;
  /** Each repetition: tokens and wall time as fractions of the full run's, and the gap. */
  perRun: { tokens: number; wall: number; gap: number }[];
}

/** replaySweep over `repeats` orders (seeds 0…repeats-1), beside the full run of each order. */
export function replaySummary(c: RecordedCurves, o: { settings: PrunerSettings; workers?: number; repeats: number }): ReplaySummary {
  const full = c.trials.length * c.maxSteps * c.tokensPerStep;
  const fullBest = Math.min(...fullBudgetValues(c).values());
  const runs: ReplayRun[] = [];
  const walls: number[] = [];
  for (let r = 0; r < o.repeats; r++) {
    const base = { seed: r, ...(o.workers !== undefined ? { workers: o.workers } : {}) };
    const run = replaySweep(c, { ...base, settings: o.settings });
    const none = o.settings.type === 'none' ? run : replaySweep(c, { ...base, settings: { type: 'none' } });
    runs.push(run);
    walls.push(run.seconds / none.seconds);
  }
  const gaps = runs.map((r) => (Number.isFinite(r.bestValue) ? r.bestValue / fullBest - 1 : Infinity));
  const within1 = gaps.filter((g) => g <= 0.01).length;
  const avg = (f: (r: ReplayRun) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
  return {
    repeats: o.repeats,
    tokens: meanInterval(runs.map((r) => r.tokens / full)),
    wall: meanInterval(walls),
    gap: meanInterval(gaps),
    within1,
    within1Ci: proportionInterval(within1, o.repeats),
    fullBest,
    found: avg((r) => r.bestValue),
    pauses: avg((r) => r.pauses),
    promotions: avg((r) => r.promotions),
    stopped: avg((r) => r.stopped),
    perRun: runs.map((r, i) => ({ tokens: r.tokens / full, wall: walls[i]!, gap: gaps[i]! })),
  };
}
