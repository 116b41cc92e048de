// The runs behind `lmsweep bench search`: our samplers on libs/search's test functions, one
// trial after another, and Optuna's on the same functions in a child process (search-optuna.py),
// each run's values checked against ours at the points it chose.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSpace, type Observation, type Point, type Problem, rngFor, suggest, type SamplerSettings } from '@lmsweep/search';
import type { SamplerName } from '@lmsweep/protocol';

/** The objective values of each trial of one run, in order. */
export type Run = number[][];

/** Our sampler `sampler` on a problem for `trials` trials, one at a time, seeded by the repetition. */
export function runOurs(problem: Problem, sampler: SamplerName, rep: number, trials: number): Run {
  const space = compileSpace(problem.space);
  const settings: SamplerSettings = { sampler, seed: rep };
  const finished: Observation[] = [];
  for (let t = 0; t < trials; t++) {
    const point = suggest(space, settings, { finished, running: [] }, rngFor(rep, t));
    finished.push({ point, values: problem.evaluate(point) });
  }
  return finished.map((o) => [...o.values]);
}

/** Milliseconds per suggestion of a sampler with `finished` random finished trials of a problem (the median of `suggestions` calls). */
export function timeSuggestion(problem: Problem, sampler: SamplerName, finished: number, suggestions: number): number {
  const space = compileSpace(problem.space);
  const history: Observation[] = [];
  for (let t = 0; t < finished; t++) {
    const point = suggest(space, { sampler: 'random', seed: 0 }, { finished: [], running: [] }, rngFor(1, t));
    history.push({ point, values: problem.evaluate(point) });
  }
  const times: number[] = [];
  for (let i = 0; i < suggestions; i++) {
    const t0 = performance.now();
    suggest(space, { sampler, seed: 0 }, { finished: history, running: [] }, rngFor(2, i));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export interface OptunaRun {
  optuna: string;
  problem: string;
  sampler: string;
  rep: number;
  points: Point[];
  values: number[][];
}

export interface OptunaTiming {
  optuna: string;
  timing: string;
  finished: number;
  seconds: number;
}

export interface OptunaResult {
  runs: OptunaRun[];
  timing?: OptunaTiming;
}

const OPTUNA_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'search-optuna.py');

/** Why Optuna's output is not to be trusted, or null: a value ours computes differently at its point (the functions must be the same). */
function mismatch(run: OptunaRun, problems: readonly Problem[]): string | null {
  const problem = problems.find((p) => p.name === run.problem);
  if (!problem) return `unknown function ${run.problem}`;
  for (let t = 0; t < run.points.length; t++) {
    const ours = problem.evaluate(run.points[t]!);
    const theirs = run.values[t]!;
    if (ours.length !== theirs.length || ours.some((v, j) => Math.abs(v - theirs[j]!) > 1e-9 * (1 + Math.abs(v)))) {
      return `${run.problem} differs between search-optuna.py and problems.ts at ${JSON.stringify(run.points[t])}: ${JSON.stringify(theirs)} vs ${JSON.stringify(ours)}`;
    }
  }
  return null;
}

/**
 * Optuna's samplers on the same problems (Debian's python3-optuna); the reason as a string when
 * it cannot run (no python3, no optuna, a failure). Runs in the background while ours run.
 */
export function runOptuna(
  python: string,
  problems: readonly Problem[],
  cfg: { samplers: string[]; reps: number; trials: number; processes: number; timing: number },
): Promise<OptunaResult | string> {
  return new Promise((resolve) => {
    const arg = JSON.stringify({ ...cfg, problems: problems.map((p) => p.name) });
    let child;
    try {
      child = spawn(python, [OPTUNA_SCRIPT, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve(`${python}: ${(e as Error).message}`);
      return;
    }
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => resolve(`${python}: ${e.message}`));
    child.on('close', (code) => {
      if (code !== 0) {
        const why = err.trim().split('\n').pop() ?? `exit ${code}`;
        resolve(/No module named 'optuna'/.test(why) ? `${why} (apt-get install python3-optuna)` : `search-optuna.py failed: ${why}`);
        return;
      }
      const result: OptunaResult = { runs: [] };
      for (const line of out.trim().split('\n').filter(Boolean)) {
        const row = JSON.parse(line) as OptunaRun | OptunaTiming;
        if ('timing' in row) result.timing = row;
        else {
          const bad = mismatch(row, problems);
          if (bad) return resolve(bad);
          result.runs.push(row);
        }
      }
      resolve(result);
    });
  });
}
