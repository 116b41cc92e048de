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

async function run(args: string[], exit = 0): Promise<string[]> {
  const lines: string[] = [];
  const code = await runCompress(args, (s) => lines.push(s));
  expect(code).toBe(exit);
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
    const neg = join(dir, 'q-neg.npy');
    writeFileSync(neg, toNpy(Float64Array.from({ length: N }, (_, i) => (i === 7 ? -1 : 1)), [N]));
    await fails(['--method', 'all', '--matrix', A, '--freq', neg, '--rate', '2'], /--freq .*q-neg\.npy\[7\] is -1: frequencies must be non-negative/);
  });

  it('a method that cannot meet the rate gets its own error row, the others run, and the exit status is 1', async () => {
    // 300×40 at rate 3: one block's ranks 11 and 12 give 3.209 and 2.941 (both over 1% off);
    // four blocks of 75 rows (115 parameters a rank) meet it with 35 ranks in all (rate 2.981).
    const args = ['--method', 'all', '--matrix', join(dir, 'A.npy'), '--freq', join(dir, 'q.npy'), '--rate', '3', '--blocks', '4', '--iters', '1'];
    const rows = (await run([...args, '--json'], 1)).map((l) => JSON.parse(l));
    expect(rows.map((r) => r.method)).toEqual(['svd', 'weighted-svd', 'block-weighted-svd', 'dynamic-rank', 'groupreduce']);
    for (const r of rows.slice(0, 2)) {
      expect(Object.keys(r).sort()).toEqual(['error', 'method', 'nearest']);
      expect(r.error).toBe(`rate 3 is impossible for ${r.method} within 1%: the nearest ranks 11 and 12 give rates 3.2086 and 2.9412`);
      expect(r.nearest.map((x: number) => x.toFixed(4))).toEqual(['3.2086', '2.9412']);
    }
    for (const r of rows.slice(2)) {
      expect(Object.keys(r).sort()).toEqual(['method', 'params', 'ranks', 'rate', 'seconds', 'werr']);
      expect(Math.abs(r.rate - 3) / 3).toBeLessThanOrEqual(0.01);
    }
    const text = (await run(args, 1)).join('\n');
    expect(text).toMatch(/^svd\s+refused \(below\)\s+-\s+-\s+-\s+-$/m);
    expect(text).toMatch(/^block-weighted-svd\s+9\/9\/9\/8\s+4025\s+2\.981\s/m);
    expect(text).toMatch(/^rate 3 is impossible for weighted-svd within 1%: the nearest ranks 11 and 12 give rates 3\.2086 and 2\.9412$/m);
    // One method alone: its error row, exit status 1.
    const one = await run(['--method', 'dynamic-rank', '--matrix', join(dir, 'A.npy'), '--freq', join(dir, 'q.npy'), '--rate', '30', '--blocks', '10', '--json'], 1);
    expect(JSON.parse(one[0]!).error).toMatch(/^rate 30 is impossible for dynamic-rank within 1%: rank 1 in each of 10 blocks already costs 700 parameters \(rate 17\.143, the highest it can meet\)$/);
  });
});
