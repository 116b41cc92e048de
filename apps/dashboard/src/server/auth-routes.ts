// What the sign-in and sign-out routes share: where to go afterwards, and plain-text refusals.

/** A path on this dashboard to return to ("/sweeps/s_1?x=y"); anything else (another site, "//host", a scheme) is "/". */
export function safeNext(v: unknown): string {
  if (typeof v !== 'string' || v.length > 500) return '/';
  if (!v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\') || /[\u0000-\u001f\\]/.test(v)) return '/';
  return v;
}

/** 303 See Other to a path here: the browser follows with a GET. */
export function seeOther(location: string, setCookie?: string): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  if (setCookie) headers.append('set-cookie', setCookie);
  return new Response(null, { status: 303, headers });
}

export function refusal(status: number, message: string): Response {
  return new Response(`${message}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
}

/** Whether the dashboard is reached over https (directly, or behind a proxy that says so): the cookie is then Secure. */
export function isHttps(req: Request): boolean {
  return new URL(req.url).protocol === 'https:' || req.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}
