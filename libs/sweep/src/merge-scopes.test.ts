import { describe, expect, it } from 'vitest';
import { mergeScopes } from './prune-plan.ts';

describe('mergeScopes', () => {
  it('joins rungs, keeps one step, and widens to the whole sweep otherwise', () => {
    expect(mergeScopes([])).toEqual({ kind: 'sweep' });
    expect(mergeScopes([{ kind: 'rungs', rungs: [300], tokens: false }, { kind: 'rungs', rungs: [100, 300], tokens: false }])).toEqual({ kind: 'rungs', rungs: [100, 300], tokens: false });
    expect(mergeScopes([{ kind: 'rungs', rungs: [300], tokens: false }, { kind: 'rungs', rungs: [100], tokens: true }])).toEqual({ kind: 'sweep' });
    expect(mergeScopes([{ kind: 'step', step: 200 }, { kind: 'step', step: 200 }])).toEqual({ kind: 'step', step: 200 });
    expect(mergeScopes([{ kind: 'step', step: 200 }, { kind: 'step', step: 300 }])).toEqual({ kind: 'sweep' });
    expect(mergeScopes([{ kind: 'rungs', rungs: [100], tokens: false }, { kind: 'sweep' }])).toEqual({ kind: 'sweep' });
    expect(mergeScopes([{ kind: 'step', step: 100 }, { kind: 'rungs', rungs: [100], tokens: false }])).toEqual({ kind: 'sweep' });
  });
});
