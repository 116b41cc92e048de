import { describe, expect, it } from 'vitest';
import { kindOf, procedureCalls, writes } from './procedures';

describe('procedure kinds', () => {
  it('reads are queries and subscriptions; launches and cancels write; unknown names count as writes', () => {
    expect(kindOf('sweeps.validate')).toBe('query');
    expect(kindOf('sweeps.search')).toBe('query');
    expect(kindOf('live.changes')).toBe('subscription');
    expect(kindOf('sweeps.create')).toBe('mutation');
    expect(kindOf('sweeps.cancel')).toBe('mutation');
    expect(kindOf('sweeps.delete')).toBe('mutation');
    expect(kindOf('__proto__')).toBe('mutation');
    expect(kindOf('constructor')).toBe('mutation');
  });
  it('a batch writes when any of its calls does; a malformed path counts as a write', () => {
    expect(procedureCalls('/trpc/sweeps.list,workers.list')).toEqual(['sweeps.list', 'workers.list']);
    expect(writes('/trpc/sweeps.list,workers.list')).toBe(false);
    expect(writes('/trpc/sweeps.list,sweeps.create')).toBe(true);
    expect(writes('/trpc/sweeps.list%2Csweeps.cancel')).toBe(true);
    expect(writes('/trpc/live.changes')).toBe(false);
    for (const p of ['/trpc/', '/trpc/a,,b', '/trpc/%E0%A4%A', '/trpc/a/b', '/other']) expect(writes(p), p).toBe(true);
  });
});
