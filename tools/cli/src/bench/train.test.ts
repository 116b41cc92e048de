import { describe, expect, it } from 'vitest';
import { expectClose } from '@lmsweep/algorithms';
import { maxUsefulWasmThreads, nativeKernelsBuilt, transformerLmParamCount } from '@lmsweep/nn';
import { benchTrain, type TrainBenchRow } from './train.ts';

describe('bench train', () => {
  it('prints one JSON row per backend (wasm with and without the native kernels) with finite, positive figures (tiny sizes)', async () => {
    const lines: string[] = [];
    await benchTrain({
      json: true,
      out: (l) => lines.push(l),
      args: ['--json', '--vocab', '100', '--hidden', '8', '--layers', '1', '--budget-tokens', '2000', '--eval-tokens', '500', '--backends', 'wasm', '--compressed', 'none'],
    });
    const rows = lines.map((l) => JSON.parse(l) as TrainBenchRow);
    expect(rows.map((row) => row.backend)).toEqual(nativeKernelsBuilt() ? ['wasm+native', 'wasm'] : ['wasm']);
    expect(rows.every((row) => row.model === 'dense' && row.vs_dense === 1)).toBe(true);
    if (nativeKernelsBuilt()) expect(rows[0]!.device).toMatch(/native kernels/);
    expect(rows.at(-1)!.device).not.toMatch(/native/);
    // the thread count a worker uses (every core), not 1
    expect(rows[0]!.device).toContain(`${maxUsefulWasmThreads() === 1 ? '1 thread' : `${maxUsefulWasmThreads()} threads`}`);
    for (const r of rows) check(r);
  }, 40_000);

  it('--arch transformer: the Transformer LM and PyTorch\'s same model, its exact parameter count (tiny sizes)', async () => {
    const lines: string[] = [];
    await benchTrain({
      json: true,
      out: (l) => lines.push(l),
      args: ['--json', '--arch', 'transformer', '--vocab', '100', '--hidden', '8', '--heads', '2', '--layers', '1', '--budget-tokens', '2000', '--eval-tokens', '500', '--backends', 'wasm', '--native', nativeKernelsBuilt() ? 'on' : 'off', '--compressed', 'none'],
    });
    const rows = lines.map((l) => JSON.parse(l) as TrainBenchRow);
    expect(rows).toHaveLength(1);
    const r = rows[0]!;
    expect(r.arch).toBe('transformer');
    expect(r.params).toBe(transformerLmParamCount(100, { arch: 'transformer', embedding: 8, hidden: 8, layers: 1, heads: 2, dropout: 0, initScale: 0.1 }, 20).total);
    check(r);
    await expect(benchTrain({ json: true, out: () => {}, args: ['--arch', 'transformer', '--hidden', '10', '--heads', '4'] })).rejects.toThrow(/--heads: 4 heads do not divide the model width --hidden 10/);
    await expect(benchTrain({ json: true, out: () => {}, args: ['--arch', 'transformer', '--embedding', '16'] })).rejects.toThrow(/--embedding: a Transformer's embedding width is its model width --hidden \(200\)/);
    await expect(benchTrain({ json: true, out: () => {}, args: ['--heads', '2'] })).rejects.toThrow(/--heads: only with --arch transformer/);
  }, 40_000);

  it('after a backend’s dense row, the compression trial fine-tuned from it, with its speed as a ratio to the dense row’s (tiny sizes)', async () => {
    const lines: string[] = [];
    // vocabulary 100 × 25: svd at rate 5 is rank 4 exactly
    await benchTrain({
      json: true,
      out: (l) => lines.push(l),
      args: ['--json', '--vocab', '100', '--hidden', '25', '--layers', '1', '--budget-tokens', '2000', '--eval-tokens', '500', '--backends', 'wasm', '--native', nativeKernelsBuilt() ? 'on' : 'off', '--compressed', 'svd', '--rate', '5', '--no-torch'],
    });
    const rows = lines.map((l) => JSON.parse(l) as TrainBenchRow);
    expect(rows.map((r) => r.model)).toEqual(['dense', 'svd rate 5']);
    const [dense, svd] = rows as [TrainBenchRow, TrainBenchRow];
    expect(svd.backend).toBe(dense.backend);
    // embedding and softmax 100 × 25 → rank 4: 4·(100 + 25) = 500 parameters each instead of 2500
    expect(dense.params - svd.params).toBe(2 * (2500 - 500));
    expectClose(svd.vs_dense!, svd.tokens_per_s / dense.tokens_per_s, { rtol: 2e-3 });
    expect(svd.timed_steps).toBe(dense.timed_steps);
    expect(svd.torch_tokens_per_s).toBeNull();
    for (const v of [svd.tokens_per_s, svd.valid_ppl!]) expect(Number.isFinite(v) && v > 0).toBe(true);
    await expect(benchTrain({ json: true, out: () => {}, args: ['--compressed', 'svd,zip'] })).rejects.toThrow(/--compressed: unknown method "zip"/);
  }, 60_000);
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
