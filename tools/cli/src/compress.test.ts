import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNpy } from '@lmsweep/algorithms';
import { runCompress } from './compress.ts';

let dir: string;
const N = 300;
const D = 40;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lmsweep-compress-'));
  let s = 12345;
  const r = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 4294967296 - 0.5;
  };
  // Rank 5 plus noise, Zipf frequencies in a shuffled word order.
  const B = Float64Array.from({ length: N * 5 }, r);
  const C = Float64Array.from({ length: 5 * D }, r);
  const a = new Float32Array(N * D);
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) {
    let x = 0.05 * r();
    for (let l = 0; l < 5; l++) x += B[i * 5 + l]! * C[l * D + d]!;
    a[i * D + d] = x;
  }
  const q = Float64Array.from({ length: N }, (_, i) => 1 / (1 + ((i * 37) % N)));
  writeFileSync(join(dir, 'A.npy'), toNpy(a, [N, D]));
  writeFileSync(join(dir, 'A64.npy'), toNpy(Float64Array.from(a), [N, D]));
  writeFileSync(join(dir, 'q.npy'), toNpy(q, [N]));
  writeFileSync(join(dir, 'q-short.npy'), toNpy(q.subarray(0, N - 1), [N - 1]));
  writeFileSync(join(dir, 'A-fortran.npy'), Buffer.from(Buffer.from(toNpy(a, [N, D])).toString('latin1').replace("'fortran_order': False", "'fortran_order': True "), 'latin1'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const code = await runCompress(args, (s) => lines.push(s));
  expect(code).toBe(0);
  return lines;
}

describe('lmsweep compress', () => {
  it('--method all --json: one line per method with params, achieved rate, werr, seconds, ranks', async () => {
    const lines = await run(['--method', 'all', '--matrix', join(dir, 'A.npy'), '--freq', join(dir, 'q.npy'), '--rate', '3', '--blocks', '3', '--iters', '2', '--tolerance', '0.05', '--json']);
    const rows = lines.map((l) => JSON.parse(l));
    expect(rows.map((r) => r.method)).toEqual(['svd', 'weighted-svd', 'block-weighted-svd', 'dynamic-rank', 'groupreduce']);
    for (const r of rows) {
      expect(Object.keys(r).sort()).toEqual(['method', 'params', 'ranks', 'rate', 'seconds', 'werr']);
      expect(Math.abs(r.rate - 3) / 3).toBeLessThanOrEqual(0.05);
      expect(r.rate).toBeCloseTo((N * D) / r.params, 10);
      expect(r.werr).toBeGreaterThanOrEqual(0);
      expect(r.werr).toBeLessThan(1);
    }
    const byMethod = Object.fromEntries(rows.map((r) => [r.method, r]));
    expect(byMethod.groupreduce.werr).toBeLessThanOrEqual(byMethod['dynamic-rank'].werr);
  });

  it('prints a table, and reads float64 matrices', async () => {
    const lines = await run(['--method', 'weighted-svd', '--matrix', join(dir, 'A64.npy'), '--freq', join(dir, 'q.npy'), '--rate', '4', '--tolerance', '0.05']);
    const text = lines.join('\n');
    expect(text).toMatch(/300×40 \(12000 parameters\), target rate 4/);
    expect(text).toMatch(/method\s+ranks\s+params\s+rate\s+weighted error\s+seconds/);
    expect(text).toMatch(/weighted-svd\s+9\s+3060\s+3\.922/);
  });

  it('refuses bad flags and files with a clear message', async () => {
    const A = join(dir, 'A.npy');
    const q = join(dir, 'q.npy');
    const fails = (args: string[], re: RegExp) => expect(runCompress(args, () => {})).rejects.toThrow(re);
    await fails(['--matrix', A, '--freq', q, '--rate', '2'], /--method is required/);
    await fails(['--method', 'pca', '--matrix', A, '--freq', q, '--rate', '2'], /--method must be one of svd, weighted-svd, block-weighted-svd, dynamic-rank, groupreduce, all; got "pca"/);
    await fails(['--method', 'svd', '--freq', q, '--rate', '2'], /--matrix A\.npy is required/);
    await fails(['--method', 'svd', '--matrix', A, '--freq', q], /--rate is required/);
    await fails(['--method', 'svd', '--matrix', A, '--freq', q, '--rate', 'fast'], /--rate must be a positive number, got "fast"/);
    await fails(['--method', 'svd', '--matrix', A, '--freq', q, '--rate', '2', '--blocks', '2.5'], /--blocks must be a positive integer, got "2\.5"/);
    await fails(['--method', 'svd', '--matrix', A, '--freq', q, '--rate', '2', '--bogus'], /Unknown option '--bogus'/);
    await fails(['--method', 'svd', '--matrix', join(dir, 'missing.npy'), '--freq', q, '--rate', '2'], /--matrix: cannot read .*missing\.npy: ENOENT/);
    await fails(['--method', 'svd', '--matrix', A, '--freq', join(dir, 'q-short.npy'), '--rate', '2'], /--freq .*q-short\.npy: expected 300 frequencies \(one per row of --matrix\), got shape \(299\)/);
    await fails(['--method', 'svd', '--matrix', join(dir, 'A-fortran.npy'), '--freq', q, '--rate', '2'], /Fortran-order/);
    await fails(['--method', 'svd', '--matrix', q, '--freq', q, '--rate', '2'], /expected a 2-D array \(N words × D\), got shape \(300\)/);
    await fails(['--method', 'dynamic-rank', '--matrix', A, '--freq', q, '--rate', '30', '--blocks', '10'], /rate 30 is impossible for dynamic-rank/);
  });
});
