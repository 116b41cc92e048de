import { describe, expect, it } from 'vitest';
import { hostAllowed, isLoopbackName, parseAllowedHosts, parseHost, requestOrigin } from './host-check';

describe('Host allow-list', () => {
  it('answers to loopback names on any port, and to listed names only', () => {
    for (const h of ['localhost:3000', '127.0.0.1:3000', '127.3.2.1', '[::1]:3000', 'LocalHost', 'dash.localhost:80']) expect(hostAllowed(h, []), h).toBe(true);
    for (const h of ['evil.example:3000', '10.0.0.5:3000', 'localhost.evil.example', '127.0.0.1.evil.example', '0.0.0.0:3000', '', 'a b', 'localhost:3000:1', '[::1', 'x..y']) expect(hostAllowed(h, []), h).toBe(false);
    expect(hostAllowed(null, [])).toBe(false);
    const allowed = parseAllowedHosts(' dash.example.org , 10.0.0.5:3000,[fd00::1]');
    expect(allowed).toEqual(['dash.example.org', '10.0.0.5:3000', 'fd00::1']);
    expect(hostAllowed('DASH.example.org:8443', allowed)).toBe(true);
    expect(hostAllowed('10.0.0.5:3000', allowed)).toBe(true);
    expect(hostAllowed('10.0.0.5:3001', allowed)).toBe(false);
    expect(hostAllowed('[fd00::1]:3000', allowed)).toBe(true);
    expect(hostAllowed('sub.dash.example.org', allowed)).toBe(false);
  });
  it('refuses an allow-list entry that is not a host, naming it', () => {
    expect(() => parseAllowedHosts('ok.example,http://x/')).toThrow(/LMSWEEP_DASHBOARD_HOSTS: "http:\/\/x\/" is not a host/);
    expect(parseAllowedHosts(undefined)).toEqual([]);
    expect(parseHost('[::1]:3000')).toEqual({ name: '::1', port: '3000' });
  });
});

describe('loopback names', () => {
  it('localhost and every name under it (RFC 6761), 127.0.0.0/8, ::1 and mapped 127 addresses however spelt; nothing else', () => {
    for (const n of ['localhost', 'LOCALHOST', 'dash.localhost', 'a.b.localhost', '127.0.0.1', '127.255.0.9', '::1', '[::1]', '0:0:0:0:0:0:0:1', '0::1', '::ffff:127.0.0.1', '[::FFFF:7F00:1]', ' 127.0.0.1 ']) expect(isLoopbackName(n), n).toBe(true);
    for (const n of ['0.0.0.0', '::', '[::]', '10.0.0.5', '127.256.0.1', '127.0.0.01', '128.0.0.1', '::2', '::ffff:10.0.0.1', 'localhost.evil.example', 'evillocalhost', '.localhost', 'a..localhost', 'x.localhost:80', '127.0.0.1.nip.io', '', '[::1', 'fe80::1%lo']) expect(isLoopbackName(n), n).toBe(false);
  });
});

describe('request origin', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it('same when Origin names the Host, foreign otherwise, unknown when the client says nothing', () => {
    expect(requestOrigin(h({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' }))).toBe('same');
    expect(requestOrigin(h({ host: 'dash.example.org', origin: 'https://dash.example.org' }))).toBe('same');
    expect(requestOrigin(h({ host: 'dash.example.org:443', origin: 'https://dash.example.org' }))).toBe('same');
    expect(requestOrigin(h({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3001' }))).toBe('foreign');
    expect(requestOrigin(h({ host: '127.0.0.1:3000', origin: 'http://evil.example' }))).toBe('foreign');
    expect(requestOrigin(h({ host: '127.0.0.1:3000', origin: 'null' }))).toBe('foreign');
    expect(requestOrigin(h({ origin: 'http://127.0.0.1:3000' }))).toBe('foreign');
    expect(requestOrigin(h({ host: '127.0.0.1:3000', 'sec-fetch-site': 'same-origin' }))).toBe('same');
    expect(requestOrigin(h({ host: '127.0.0.1:3000', 'sec-fetch-site': 'cross-site' }))).toBe('foreign');
    expect(requestOrigin(h({ host: '127.0.0.1:3000' }))).toBe('unknown');
    // Another site says so in Sec-Fetch-Site whatever its Origin (a no-cors GET sends none); a typed address is a person's.
    expect(requestOrigin(h({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'cross-site' }))).toBe('foreign');
    expect(requestOrigin(h({ host: 'localhost:3000', 'sec-fetch-site': 'same-site' }))).toBe('foreign');
    expect(requestOrigin(h({ host: 'localhost:3000', 'sec-fetch-site': 'none' }))).toBe('unknown');
    expect(requestOrigin(h({ host: 'localhost:3000', 'sec-fetch-site': 'bogus' }))).toBe('foreign');
  });
});
