// A smoke run of `lmsweep bench prune-latency`: a few simulated workers on a small pruned grid on
// PGlite, one row per pruner, as JSON (no timing asserted: only the shape and the counts).
import { describe, expect, it } from 'vitest';
import { benchPruneLatency } from './prune-latency.ts';

describe('bench prune-latency', () => {
  it('answers every judged report with a verdict and reports its round trip per pruner', async () => {
    const lines: string[] = [];
    await benchPruneLatency({ json: true, out: (l) => lines.push(l), args: ['--workers', '3', '--configs', '9', '--every-ms', '0', '--seconds', '60', '--no-postgres'] });
    const rows = lines.map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.bench, r.database, r.pruner, r.workers, r.configs, r.targetP99Ms])).toEqual([
      ['prune-latency', 'pglite', 'asha', 3, 9, 20],
      ['prune-latency', 'pglite', 'median', 3, 9, 20],
      ['prune-latency', 'pglite', 'asha-promotion', 3, 9, 20],
    ]);
    for (const r of rows) {
      expect(r.decisions).toBe(r.verdicts.continue + r.verdicts.stop + r.verdicts.pause);
      expect(r.decisions).toBeGreaterThan(0);
      expect(r.p50Ms).toBeGreaterThan(0);
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
      expect(r.maxMs).toBeGreaterThanOrEqual(r.p99Ms);
      expect(typeof r.met).toBe('boolean');
      expect(r.cpuMsPerDecision).toBeGreaterThan(0);
    }
    // Each sweep ran to its end: its best configuration completed; ASHA stopped some, with promotion it paused and promoted some.
    const [asha, , promotion] = rows;
    expect(asha.verdicts.stop).toBeGreaterThan(0);
    expect(promotion.verdicts.pause).toBeGreaterThan(0);
    expect(promotion.promotions).toBeGreaterThan(0);
    for (const r of rows) expect(r.completed).toBeGreaterThan(0);
  });

  it('refuses a pruner it does not know', async () => {
    await expect(benchPruneLatency({ json: true, out: () => {}, args: ['--pruners', 'hyperband', '--no-postgres'] })).rejects.toThrow(/--pruners: "hyperband"/);
  });
});
