import { describe, expect, it } from 'vitest';
import { clientAddress, FailureLimiter } from './sign-in-limits';

describe('wrong sign-in tokens', () => {
  const limits = { perAddress: 3, global: 10, windowMs: 60_000, maxAddresses: 4 };
  it('are limited per address: one address spends its own attempts, not another\'s', () => {
    const l = new FailureLimiter(limits);
    for (let i = 0; i < 3; i++) {
      expect(l.exhausted('10.0.0.1', 1000 + i)).toBe(false);
      l.record('10.0.0.1', 1000 + i);
    }
    expect(l.exhausted('10.0.0.1', 1010)).toBe(true);
    expect(l.exhausted('10.0.0.2', 1010)).toBe(false);
    // The window slides: a minute later the address may try again.
    expect(l.exhausted('10.0.0.1', 61_001)).toBe(false);
  });
  it('and in all, as a last resort; the memory of addresses is bounded', () => {
    const l = new FailureLimiter(limits);
    for (let i = 0; i < 10; i++) l.record(`10.0.1.${i}`, 1000);
    expect(l.exhausted('10.0.2.1', 1001)).toBe(true);
    expect(l.addresses).toBeLessThanOrEqual(4);
    expect(l.exhausted('10.0.2.1', 61_001)).toBe(false);
  });
  it('take the address the server saw (x-forwarded-for, first entry)', () => {
    expect(clientAddress(new Headers({ 'x-forwarded-for': '10.0.0.1, 127.0.0.1' }))).toBe('10.0.0.1');
    expect(clientAddress(new Headers({ 'x-forwarded-for': '::FFFF:127.0.0.1' }))).toBe('::ffff:127.0.0.1');
    expect(clientAddress(new Headers())).toBe('unknown');
  });
});
