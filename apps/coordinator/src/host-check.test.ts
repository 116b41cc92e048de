import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { allowedHostIssue, hostPolicy, parseHostHeader } from './host-check.ts';

describe('parseHostHeader', () => {
  it('splits names, addresses and ports', () => {
    expect(parseHostHeader('LocalHost:4317')).toEqual({ name: 'localhost', port: 4317 });
    expect(parseHostHeader('[::1]:80')).toEqual({ name: '::1', port: 80 });
    expect(parseHostHeader('example.org.')).toEqual({ name: 'example.org', port: null });
    for (const bad of ['', ':80', 'a b', 'user@host', 'host:99999', 'host:', '[::1', 'a/b']) expect(parseHostHeader(bad)).toBeNull();
    expect(allowedHostIssue('*')).toBeNull();
    expect(allowedHostIssue('coord.example:8080')).toBeNull();
    expect(allowedHostIssue('http://x')).toMatch(/not a host name/);
  });
});

describe('hostPolicy', () => {
  const loopback = hostPolicy({ bindHost: '127.0.0.1', port: 4317 });
  const ok = (check: typeof loopback, headers: Record<string, string>) => check(headers) === null;

  it('a loopback coordinator answers its loopback names with its port, nothing else', () => {
    for (const host of ['127.0.0.1:4317', 'localhost:4317', '[::1]:4317', '127.0.0.2:4317']) expect(ok(loopback, { host }), host).toBe(true);
    // DNS rebinding: the page's own name; another port; an address that is not loopback
    for (const host of ['evil.example:4317', 'evil.example', '127.0.0.1:3000', '127.0.0.1', '0.0.0.0:4317', '10.0.0.1:4317', os.hostname()]) {
      expect(loopback({ host }), host).toMatch(/is not this coordinator's.*--allowed-hosts/);
    }
    expect(loopback({})).toMatch(/no Host header/);
  });

  it('refuses browser requests from other origins and sites', () => {
    const host = '127.0.0.1:4317';
    expect(ok(loopback, { host, origin: 'http://127.0.0.1:4317' })).toBe(true);
    expect(ok(loopback, { host, 'sec-fetch-site': 'same-origin' })).toBe(true);
    expect(ok(loopback, { host, 'sec-fetch-site': 'none' })).toBe(true);
    expect(loopback({ host, origin: 'http://evil.example' })).toMatch(/Origin "http:\/\/evil.example"/);
    expect(loopback({ host, origin: 'null' })).toMatch(/Origin "null"/);
    expect(loopback({ host, origin: 'http://localhost:3000' })).toMatch(/Origin/);
    expect(loopback({ host, 'sec-fetch-site': 'cross-site' })).toMatch(/another site/);
    expect(loopback({ host, 'sec-fetch-site': 'same-site' })).toMatch(/another site/);
  });

  it('takes an allow-list: names on any port, name:port on that port, * for anything', () => {
    const p = hostPolicy({ bindHost: '127.0.0.1', port: 4317, allowedHosts: ['coord.example', 'localhost:9000'] });
    expect(ok(p, { host: 'coord.example:443' })).toBe(true);
    expect(ok(p, { host: 'Coord.Example' })).toBe(true);
    expect(ok(p, { host: 'localhost:9000' })).toBe(true); // an SSH tunnel's port
    expect(ok(p, { host: 'localhost:9001' })).toBe(false);
    expect(ok(p, { host: 'coord.example.evil.example' })).toBe(false);
    expect(ok(p, { host: 'coord.example', origin: 'https://coord.example' })).toBe(true);
    expect(ok(hostPolicy({ bindHost: '127.0.0.1', port: 1, allowedHosts: ['*'] }), { host: 'anything', origin: 'http://evil.example' })).toBe(true);
  });

  it('a coordinator on a network interface also answers IP addresses and its machine name', () => {
    const p = hostPolicy({ bindHost: '0.0.0.0', port: 4317 });
    for (const host of ['10.0.0.5:4317', '10.0.0.5:8080', '[fd00::1]:4317', `${os.hostname()}:4317`, 'localhost:4317']) expect(ok(p, { host }), host).toBe(true);
    for (const host of ['evil.example:4317', 'localhost:8080']) expect(ok(p, { host }), host).toBe(false);
  });
});
