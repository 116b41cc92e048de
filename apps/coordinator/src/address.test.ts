// The one loopback rule and the per-address key, on the spellings that used to differ between
// the coordinator's three predicates (bind host, Host header, peer address).
import { describe, expect, it } from 'vitest';
import { addressKey, isLoopback } from './address.ts';

describe('isLoopback', () => {
  it('is localhost, 127.0.0.0/8 and ::1, however written', () => {
    const yes = ['localhost', 'LOCALHOST', 'localhost.', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '[0:0::1]', '::1%lo', '::ffff:127.0.0.1', '::FFFF:127.9.9.9', '::ffff:7f00:1', '[::ffff:127.0.0.1]'];
    for (const h of yes) expect(isLoopback(h), h).toBe(true);
  });
  it('is nothing else', () => {
    const no = ['0.0.0.0', '::', '::2', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1', '::ffff:8000:1', '2001:db8::1', 'example.com', 'localhost.example.com', 'app.localhost', '127.0.0.1.nip.io', '', null, undefined];
    for (const h of no) expect(isLoopback(h), String(h)).toBe(false);
  });
});

describe('addressKey', () => {
  it('counts an address by its IPv4 form and an IPv6 address by its /64', () => {
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('2001:db8:1:2::5')).toBe(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'));
    expect(addressKey('2001:db8:1:2::5')).not.toBe(addressKey('2001:db8:1:3::5'));
    expect(addressKey(null)).toBe('unknown');
  });
});
