import { describe, expect, it } from 'vitest';
import { listenScope } from './listen-scope';

const next = (...args: string[]) => ['/usr/bin/node', '/repo/node_modules/next/dist/bin/next', ...args];

describe('where the dashboard listens', () => {
  it('reads next start\'s -H in every spelling commander takes', () => {
    expect(listenScope(next('start', 'apps/dashboard', '-p', '3000', '-H', '127.0.0.1'))).toBe('loopback');
    expect(listenScope(next('start', '-H', 'localhost', 'apps/dashboard'))).toBe('loopback');
    expect(listenScope(next('start', '--hostname=::1'))).toBe('loopback');
    expect(listenScope(next('start', '-H127.0.0.1'))).toBe('loopback');
    expect(listenScope(['/usr/bin/node', '/repo/node_modules/.bin/next', 'start', '--hostname', '[::1]'])).toBe('loopback');
  });
  it('every interface without -H (Next\'s default), or on any other address; the last -H wins', () => {
    expect(listenScope(next('start', 'apps/dashboard', '-p', '3000'))).toBe('network');
    expect(listenScope(next('start', '-H', '0.0.0.0'))).toBe('network');
    expect(listenScope(next('start', '-H', '::'))).toBe('network');
    expect(listenScope(next('start', '-H', '10.0.0.5'))).toBe('network');
    expect(listenScope(next('start', '-H', '127.0.0.1', '-H', '0.0.0.0'))).toBe('network');
    expect(listenScope(next('start', '--', '-H', '127.0.0.1'))).toBe('network');
  });
  it('unknown when not started by the next CLI', () => {
    expect(listenScope(['/usr/bin/node', '/repo/node_modules/next/dist/server/lib/start-server.js'])).toBe('unknown');
    expect(listenScope(['/usr/bin/node', '/repo/server.js', 'start'])).toBe('unknown');
    expect(listenScope(next('build'))).toBe('unknown');
  });
});
