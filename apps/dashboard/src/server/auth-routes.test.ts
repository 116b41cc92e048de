import { describe, expect, it } from 'vitest';
import { isHttps, safeNext, seeOther } from './auth-routes';

describe('sign-in redirects', () => {
  it('return only to a path on this dashboard', () => {
    expect(safeNext('/sweeps/s_1?x=y')).toBe('/sweeps/s_1?x=y');
    for (const bad of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '', 'sweeps', '/a\nSet-Cookie: x=1', null, 3, `/${'a'.repeat(600)}`]) expect(safeNext(bad), String(bad)).toBe('/');
  });
  it('303 to a relative location, with the cookie when given; https from the URL or a proxy', () => {
    const r = seeOther('/', 'lmsweep_session=v; Path=/');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/');
    expect(r.headers.get('set-cookie')).toBe('lmsweep_session=v; Path=/');
    expect(isHttps(new Request('https://dash.example.org/auth/sign-in'))).toBe(true);
    expect(isHttps(new Request('http://127.0.0.1:3000/auth/sign-in', { headers: { 'x-forwarded-proto': 'https' } }))).toBe(true);
    expect(isHttps(new Request('http://127.0.0.1:3000/auth/sign-in'))).toBe(false);
  });
});
