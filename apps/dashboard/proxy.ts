// Every request first: refuse a Host that is not this dashboard's (a loopback name, or one of
// LMSWEEP_DASHBOARD_HOSTS), so a web page that rebinds its own name to 127.0.0.1 can neither read
// nor drive a dashboard on this machine. (Next.js's Proxy, formerly Middleware; Node.js runtime.)
import type { NextRequest } from 'next/server';
import { dashboardEnv } from './src/env';
import { hostAllowed } from './src/server/host-check';

export function proxy(req: NextRequest): Response | undefined {
  let allowed: readonly string[];
  try {
    allowed = dashboardEnv().LMSWEEP_DASHBOARD_HOSTS;
  } catch (e) {
    return new Response(`${(e as Error).message}\n`, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
  }
  const host = req.headers.get('host');
  if (hostAllowed(host, allowed)) return undefined;
  const shown = host === null ? 'no Host header' : `Host ${JSON.stringify(host.slice(0, 200))}`;
  return new Response(`${shown} is not this dashboard's: it answers to loopback names${allowed.length ? ` and ${allowed.join(', ')}` : ''} (LMSWEEP_DASHBOARD_HOSTS adds names).\n`, {
    status: 403,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  });
}
