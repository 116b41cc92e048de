import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BRANIN, ZDT1 } from '@lmsweep/search';
import { benchSearch, runSearchBench, type SearchBenchRow, type SearchTimingRow } from './search.ts';

const hasOptuna = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import optuna'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('bench search', () => {
  it('prints one JSON row per function, sampler and checkpoint, and the time of a suggestion (tiny settings, no Optuna)', async () => {
    const lines: string[] = [];
    await benchSearch({ json: true, out: (l) => lines.push(l), args: ['--json', '--reps', '3', '--trials', '5,12', '--functions', 'branin,zdt1', '--finished', '40', '--no-optuna'] });
    const rows = lines.map((l) => JSON.parse(l) as SearchBenchRow & SearchTimingRow & { error?: string });
    const regret = rows.filter((r) => r.median_regret !== undefined);
    const hv = rows.filter((r) => r.median_hypervolume !== undefined);
    expect(regret.map((r) => `${r.sampler}@${r.trials}`)).toEqual(['random@5', 'random@12', 'sobol@5', 'sobol@12', 'tpe@5', 'tpe@12']);
    expect(hv.map((r) => `${r.sampler}@${r.trials}`)).toEqual(['random@5', 'random@12', 'sobol@5', 'sobol@12', 'motpe@5', 'motpe@12']);
    for (const r of [...regret, ...hv]) {
      expect(r).toMatchObject({ bench: 'search', function: expect.stringMatching(/^(branin|zdt1)$/), repetitions: 3 });
      const v = r.median_regret ?? r.median_hypervolume!;
      expect(r.ci[0]).toBeLessThanOrEqual(v);
      expect(r.ci[1]).toBeGreaterThanOrEqual(v);
      expect(Number.isFinite(v) && v >= 0).toBe(true);
    }
    // More trials never lose what was found: regret falls, hypervolume grows.
    for (const s of ['random', 'sobol', 'tpe']) expect(regret.find((r) => r.sampler === s && r.trials === 12)!.median_regret!).toBeLessThanOrEqual(regret.find((r) => r.sampler === s && r.trials === 5)!.median_regret!);
    const timing = rows.find((r) => r.timing === 'suggestion')!;
    expect(timing).toMatchObject({ function: 'branin', sampler: 'tpe', finished: 40 });
    expect(timing.ms_per_suggestion).toBeGreaterThan(0);
    expect(rows.at(-1)).toEqual({ bench: 'search', reference: 'optuna', error: '--no-optuna' });
  }, 60_000);

  it('says why and keeps its own rows when Optuna cannot run', async () => {
    const r = await runSearchBench({ reps: 2, checkpoints: [4], problems: [BRANIN], finished: 0, optuna: true, processes: 1, python: '/nonexistent/python3' });
    expect(r.optunaSkipped).toMatch(/not found.*apt-get install python3-optuna/);
    expect(r.rows.map((x) => x.sampler)).toEqual(['random', 'sobol', 'tpe']);
    expect(r.timings).toEqual([]);
  });

  it("refuses Optuna's rows when its function gives other values than ours at the same point", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-search-'));
    try {
      // A stand-in interpreter that reports Branin(0, 0) as 1 (it is 55.6).
      const fake = path.join(dir, 'python3');
      writeFileSync(fake, `#!/bin/sh\necho '${JSON.stringify({ optuna: 'x', problem: 'branin', sampler: 'optuna-tpe', rep: 0, points: [{ x1: 0, x2: 0 }], values: [[1]] })}'\n`);
      chmodSync(fake, 0o755);
      const r = await runSearchBench({ reps: 1, checkpoints: [1], problems: [BRANIN], finished: 0, optuna: true, processes: 1, python: fake });
      expect(r.optunaSkipped).toMatch(/branin differs between search-optuna.py and problems.ts/);
      expect(r.rows.some((x) => x.sampler.startsWith('optuna'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs Optuna's samplers on the same functions when python3-optuna is installed, or says how to install it", async () => {
    const r = await runSearchBench({ reps: 2, checkpoints: [3, 6], problems: [BRANIN, ZDT1], finished: 0, optuna: true, processes: 1 });
    if (!hasOptuna) {
      expect(r.optunaSkipped).toMatch(/apt-get install python3-optuna/);
      return;
    }
    expect(r.optunaSkipped).toBeUndefined();
    const optuna = r.rows.filter((x) => x.sampler.startsWith('optuna-'));
    // NSGA-II only for the two-objective function; every Optuna value was recomputed here and agreed.
    expect(optuna.map((x) => `${x.function}:${x.sampler}@${x.trials}`)).toEqual([
      'branin:optuna-tpe@3',
      'branin:optuna-tpe@6',
      'branin:optuna-tpe-multivariate@3',
      'branin:optuna-tpe-multivariate@6',
      'zdt1:optuna-tpe@3',
      'zdt1:optuna-tpe@6',
      'zdt1:optuna-tpe-multivariate@3',
      'zdt1:optuna-tpe-multivariate@6',
      'zdt1:optuna-nsga2@3',
      'zdt1:optuna-nsga2@6',
    ]);
    expect(optuna.every((x) => x.repetitions === 2)).toBe(true);
  }, 120_000);
});
