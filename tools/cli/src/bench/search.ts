// `lmsweep bench search [--reps R] [--trials N1,N2] [--functions F1,F2] [--finished N] [--json]`:
// libs/search's samplers on test functions with known optima, Optuna's beside them in the same
// run. For one objective, the median simple regret after each checkpoint and its 95% interval
// over the repetitions (distribution-free, from order statistics); for ZDT1, the hypervolume of
// the points found (against the problem's reference point). Then the time of one suggestion with
// many finished trials, ours and Optuna TPE's.
import { existsSync } from 'node:fs';
import { hypervolume2d, medianInterval, type Problem, PROBLEMS, regretCurve } from '@lmsweep/search';
import type { SamplerName } from '@lmsweep/protocol';
import { table } from '../format.ts';
import { parseOptions, UsageError } from '../options.ts';
import { SEARCH_BENCH } from './options.ts';
import { type OptunaResult, type Run, runOptuna, runOurs, timeSuggestion } from './search-runs.ts';

export interface SearchBenchOptions {
  reps: number;
  /** Checkpoints, ascending; the last is the length of every run. */
  checkpoints: number[];
  problems: readonly Problem[];
  /** Finished trials for the time of one suggestion (0: not timed). */
  finished: number;
  optuna: boolean;
  processes: number;
  /** The interpreter with Optuna (Debian's python3-optuna is in /usr/bin/python3's path). */
  python?: string;
}

/** One row: a sampler on a function after `trials` trials, over the repetitions. */
export interface SearchBenchRow {
  bench: 'search';
  function: string;
  sampler: string;
  trials: number;
  /** One objective: the median of best-found − optimum. */
  median_regret?: number;
  /** Two objectives: the median hypervolume of the points found (higher is better). */
  median_hypervolume?: number;
  /** The 95% interval of that median. */
  ci: [number, number];
  repetitions: number;
}

export interface SearchTimingRow {
  bench: 'search';
  timing: 'suggestion';
  function: string;
  sampler: string;
  finished: number;
  ms_per_suggestion: number;
}

export interface SearchBenchResult {
  rows: SearchBenchRow[];
  timings: SearchTimingRow[];
  /** Why Optuna's rows are missing, when they are. */
  optunaSkipped?: string;
  optunaVersion?: string;
}

const PYTHON = '/usr/bin/python3';
/** Ours on one objective; on two, motpe stands where tpe does. */
const OURS: readonly SamplerName[] = ['random', 'sobol', 'tpe'];
const OPTUNA_SAMPLERS = ['optuna-tpe', 'optuna-tpe-multivariate', 'optuna-nsga2'];

const ourSampler = (problem: Problem, s: SamplerName): SamplerName => (problem.reference && s === 'tpe' ? 'motpe' : s);

function rowsOf(problem: Problem, sampler: string, runs: readonly Run[], checkpoints: readonly number[]): SearchBenchRow[] {
  return checkpoints.map((n) => {
    const base = { bench: 'search' as const, function: problem.name, sampler, trials: n, repetitions: runs.length };
    if (problem.reference) {
      const { median, ci } = medianInterval(runs.map((r) => hypervolume2d(r.slice(0, n).map((v) => [v[0]!, v[1]!] as const), problem.reference!)));
      return { ...base, median_hypervolume: median, ci };
    }
    const { median, ci } = medianInterval(runs.map((r) => regretCurve(r.map((v) => v[0]!), problem.optimum!)[n - 1]!));
    return { ...base, median_regret: median, ci };
  });
}

/** Every run of the benchmark; Optuna's in a child process while ours run. */
export async function runSearchBench(opts: SearchBenchOptions): Promise<SearchBenchResult> {
  const trials = opts.checkpoints[opts.checkpoints.length - 1]!;
  const python = opts.python ?? PYTHON;
  const optuna: Promise<OptunaResult | string> = !opts.optuna
    ? Promise.resolve('--no-optuna')
    : !existsSync(python)
      ? Promise.resolve(`${python} not found (apt-get install python3-optuna)`)
      : runOptuna(python, opts.problems, { samplers: OPTUNA_SAMPLERS, reps: opts.reps, trials, processes: opts.processes, timing: opts.finished });
  const rows: SearchBenchRow[] = [];
  for (const problem of opts.problems) {
    for (const s of OURS) {
      const sampler = ourSampler(problem, s);
      const runs = Array.from({ length: opts.reps }, (_, rep) => runOurs(problem, sampler, rep, trials));
      rows.push(...rowsOf(problem, sampler, runs, opts.checkpoints));
    }
  }
  const timings: SearchTimingRow[] = [];
  const timed = opts.problems.find((p) => p.name === 'hartmann6') ?? opts.problems.find((p) => !p.reference);
  if (opts.finished > 0 && timed) {
    timings.push({ bench: 'search', timing: 'suggestion', function: timed.name, sampler: 'tpe', finished: opts.finished, ms_per_suggestion: timeSuggestion(timed, 'tpe', opts.finished, 15) });
  }
  const result = await optuna;
  if (typeof result === 'string') return { rows, timings, optunaSkipped: result };
  for (const problem of opts.problems) {
    for (const sampler of OPTUNA_SAMPLERS) {
      const runs = result.runs.filter((r) => r.problem === problem.name && r.sampler === sampler).sort((a, b) => a.rep - b.rep);
      if (runs.length) rows.push(...rowsOf(problem, sampler, runs.map((r) => r.values), opts.checkpoints));
    }
  }
  if (result.timing && timed) timings.push({ bench: 'search', timing: 'suggestion', function: 'hartmann6', sampler: result.timing.timing, finished: result.timing.finished, ms_per_suggestion: result.timing.seconds * 1000 });
  return { rows, timings, optunaVersion: result.runs[0]?.optuna ?? result.timing?.optuna };
}

const fmt = (x: number) => (x === 0 ? '0' : Math.abs(x) >= 100 || Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toPrecision(3));

/** The goals the issue sets, and whether this run met them. */
function goalLines(r: SearchBenchResult, checkpoints: readonly number[]): string[] {
  const out: string[] = [];
  const at = (fn: string, s: string, n: number) => r.rows.find((x) => x.function === fn && x.sampler === s && x.trials === n);
  const functions = [...new Set(r.rows.map((x) => x.function))];
  const late = checkpoints.filter((n) => n >= 50);
  for (const fn of functions) {
    for (const n of late) {
      const ours = at(fn, 'tpe', n) ?? at(fn, 'motpe', n);
      if (!ours) continue;
      const two = ours.median_hypervolume !== undefined;
      const value = (x: SearchBenchRow | undefined) => (x ? (two ? x.median_hypervolume! : x.median_regret!) : undefined);
      const better = (a: number, b: number) => (two ? a >= b : a <= b);
      const vs = (name: string) => {
        const v = value(at(fn, name, n));
        return v === undefined ? undefined : `${name} ${fmt(v)}: ${better(value(ours)!, v) ? 'met' : 'NOT met'}`;
      };
      const parts = [vs('random'), vs('optuna-tpe'), two ? vs('optuna-nsga2') : undefined].filter(Boolean);
      out.push(`${fn} at ${n}: ${ours.sampler} ${fmt(value(ours)!)} vs ${parts.join('; ')}`);
    }
  }
  const ours = r.timings.find((t) => t.sampler === 'tpe');
  if (ours) {
    const theirs = r.timings.find((t) => t.sampler === 'optuna-tpe');
    out.push(`one suggestion with ${ours.finished} finished trials (${ours.function}): tpe ${ours.ms_per_suggestion.toFixed(2)} ms (goal < 20 ms: ${ours.ms_per_suggestion < 20 ? 'met' : 'NOT met'})${theirs ? `, optuna-tpe ${theirs.ms_per_suggestion.toFixed(1)} ms (${(theirs.ms_per_suggestion / ours.ms_per_suggestion).toFixed(1)}× ours)` : ''}`);
  }
  return out;
}

export async function benchSearch(ctx: { json: boolean; out: (line: string) => void; args: string[] }): Promise<void> {
  const { values } = parseOptions({ options: SEARCH_BENCH.options }, ctx.args);
  const checkpoints = (values.trials ?? '10,25,50,100').split(',').map((s) => Number(s.trim()));
  if (checkpoints.some((n) => n < 1) || checkpoints.some((n, i) => i > 0 && n <= checkpoints[i - 1]!)) throw new UsageError('--trials: positive and ascending, e.g. 10,25,50,100');
  const names = (values.functions ?? PROBLEMS.map((p) => p.name).join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  const problems = names.map((n) => {
    const p = PROBLEMS.find((q) => q.name === n);
    if (!p) throw new UsageError(`--functions: unknown function "${n}" (expected ${PROBLEMS.map((q) => q.name).join(', ')})`);
    return p;
  });
  const r = await runSearchBench({ reps: values.reps, checkpoints, problems, finished: values.finished, optuna: !values['no-optuna'], processes: values.processes });
  if (ctx.json) {
    for (const row of [...r.rows, ...r.timings]) ctx.out(JSON.stringify(row));
    if (r.optunaSkipped) ctx.out(JSON.stringify({ bench: 'search', reference: 'optuna', error: r.optunaSkipped }));
    return;
  }
  // motpe stands in tpe's column for the two-objective function.
  const samplers = [...new Set(r.rows.map((x) => (x.sampler === 'motpe' ? 'tpe' : x.sampler)))];
  ctx.out(`Median over ${values.reps} repetitions [95% interval]: simple regret (best found − optimum, lower is better); for zdt1 the hypervolume against (${problems.find((p) => p.reference)?.reference?.join(', ') ?? '–'}) (higher is better).`);
  ctx.out(r.optunaSkipped ? `Optuna rows skipped: ${r.optunaSkipped}` : `Optuna ${r.optunaVersion}: optuna-tpe = TPESampler(seed) (MOTPE for two objectives), optuna-tpe-multivariate = multivariate=True, group=True.`);
  const keyRows: (string | number)[][] = [];
  for (const p of problems) {
    for (const n of checkpoints) {
      keyRows.push([
        p.name,
        n,
        ...samplers.map((s) => {
          const x = r.rows.find((y) => y.function === p.name && (y.sampler === s || (s === 'tpe' && y.sampler === 'motpe')) && y.trials === n);
          if (!x) return '–';
          const v = x.median_regret ?? x.median_hypervolume!;
          return `${fmt(v)} [${fmt(x.ci[0])}, ${fmt(x.ci[1])}]`;
        }),
      ]);
    }
  }
  ctx.out(table(['function', 'trials', ...samplers.map((s) => (s === 'tpe' ? 'tpe/motpe' : s))], keyRows));
  for (const t of r.timings) ctx.out(`${t.sampler}: ${t.ms_per_suggestion.toFixed(2)} ms per suggestion with ${t.finished} finished trials (${t.function})`);
  for (const line of goalLines(r, checkpoints)) ctx.out(`goal: ${line}`);
}
