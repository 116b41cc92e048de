import { describe, expect, it } from 'vitest';
import { tokenMatches } from './token.ts';

describe('tokenMatches', () => {
  it('matches the exact token only', () => {
    expect(tokenMatches('secret-token', 'secret-token')).toBe(true);
    for (const g of ['secret-toke', 'secret-tokenx', 'Secret-token', '', undefined, null]) expect(tokenMatches(g, 'secret-token'), String(g)).toBe(false);
  });
});
