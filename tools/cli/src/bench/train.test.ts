import { describe, expect, it } from 'vitest';
import { nativeKernelsBuilt } from '@lmsweep/nn';
import { benchTrain, type TrainBenchRow } from './train.ts';

describe('bench train', () => {
  it('prints one JSON row per backend (wasm with and without the native kernels) with finite, positive figures (tiny sizes)', async () => {
    const lines: string[] = [];
    await benchTrain({
      json: true,
      out: (l) => lines.push(l),
      args: ['--json', '--vocab', '100', '--hidden', '8', '--layers', '1', '--budget-tokens', '2000', '--eval-tokens', '500', '--backends', 'wasm'],
    });
    const rows = lines.map((l) => JSON.parse(l) as TrainBenchRow);
    expect(rows.map((row) => row.backend)).toEqual(nativeKernelsBuilt() ? ['wasm+native', 'wasm'] : ['wasm']);
    if (nativeKernelsBuilt()) expect(rows[0]!.device).toMatch(/native kernels/);
    expect(rows.at(-1)!.device).not.toMatch(/native/);
    for (const r of rows) check(r);
  }, 40_000);
});

function check(r: TrainBenchRow): void {
  expect(r).toMatchObject({ hidden: 8, layers: 1, batch: 20, unroll: 20, budget_tokens: 2000, timed_steps: 3 });
  for (const k of ['backend', 'vocab', 'hidden', 'layers', 'batch', 'unroll', 'tokens_per_s', 'torch_tokens_per_s', 'ratio', 'valid_ppl', 'torch_valid_ppl', 'budget_tokens'] as const) {
    expect(r).toHaveProperty(k);
  }
  for (const v of [r.vocab, r.tokens_per_s, r.mean_tokens_per_s, r.valid_ppl!]) {
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThan(0);
  }
  // torch where installed; otherwise null with the install hint.
  if (r.torch_tokens_per_s === null) {
    expect(r.ratio).toBeNull();
    expect(r.torch_valid_ppl).toBeNull();
    expect(r.note).toContain('apt-get install python3-torch');
  } else {
    for (const v of [r.torch_tokens_per_s, r.ratio!, r.torch_valid_ppl!]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(0);
    }
  }
}
