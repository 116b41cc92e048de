import { describe, expect, it } from 'vitest';
import { maxUsefulWasmThreads } from '@lmsweep/nn';
import { runPhmBench } from './phm.ts';

describe('bench phm', () => {
  it('times every variant per cell on a worker’s thread count and reports what auto chose, as ratios (tiny sizes)', async () => {
    const rows = await runPhmBench({ sizes: [16], batches: [1, 300], ns: [2, 4], budgetMs: 5, torch: false });
    expect(rows.map((r) => [r.pass, r.batch, r.n])).toEqual([
      ['forward', 1, 2],
      ['forward+backward', 1, 2],
      ['forward', 1, 4],
      ['forward+backward', 1, 4],
      ['forward', 300, 2],
      ['forward+backward', 300, 2],
      ['forward', 300, 4],
      ['forward+backward', 300, 4],
    ]);
    const threads = maxUsefulWasmThreads();
    for (const r of rows) {
      if (r.backend.startsWith('wasm')) expect(r.backend).toContain(threads === 1 ? '1 thread' : `${threads} threads`);
      for (const v of [r.dense_ms, r.phm_materialized_ms, r.phm_factored_ms, r.phm_auto_ms, r.auto_vs_fastest, r.auto_vs_dense]) expect(Number.isFinite(v) && v > 0).toBe(true);
      expect(['materialized', 'factored']).toContain(r.auto_path);
    }
  }, 60_000);
});
