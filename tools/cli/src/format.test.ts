import { describe, expect, it } from 'vitest';
import { renderLeaderboard } from './format.ts';

const row = (method: string, config: unknown, isBaseline = false) => ({ method, config, params: 1000, compression: 1, validPpl: { mean: 100, halfWidth: 1 }, testPpl: { mean: 110, halfWidth: 1 }, seeds: [0, 1], paretoRank: 0, isBaseline });

describe('renderLeaderboard', () => {
  it('labels the dense + fine-tune control so, beside the baseline it started from', () => {
    const out = renderLeaderboard([row('dense', { method: 'dense' }, true), row('dense-finetune', { method: 'dense-finetune', finetune: { epochs: 1, maxSteps: 100 } })]);
    expect(out).toContain('dense (baseline)');
    expect(out).toContain('dense + fine-tune');
    expect(out).not.toContain('dense-finetune');
  });
});
