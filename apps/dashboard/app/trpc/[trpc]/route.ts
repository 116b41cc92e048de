// /trpc/* → ${LMSWEEP_URL}/trpc/*: the browser talks only to the dashboard, which forwards
// every tRPC call to the coordinator. Bodies stream back untouched, so the server-sent events of
// subscriptions (live.changes) arrive as they are written.
//
// No call is forwarded for another site's page (Origin, Sec-Fetch-Site), reads included: the
// coordinator refuses such calls itself, and the dashboard must not relay them past it. Reads are
// forwarded for anyone else. A write (a mutation, or a name the API type does not know) must come
// from the dashboard's own page (Origin); when the dashboard has an API token, only for a
// signed-in session, with the token added to it alone; without one, only while the dashboard
// listens on loopback. A client is never told the coordinator's address or why it could not be
// reached (the server's log says).
import type { NextRequest } from 'next/server';
import { dashboardEnv } from '../../../src/env';
import { procedureCalls, writes } from '../../../src/lib/procedures';
import { readBody } from '../../../src/server/body';
import { requestOrigin } from '../../../src/server/host-check';
import { listenScope } from '../../../src/server/listen-scope';
import { logServerError } from '../../../src/server/log';
import { sessionFromCookieHeader, verifySession } from '../../../src/server/session';

export const dynamic = 'force-dynamic';
export const revalidate = 0;
export const fetchCache = 'force-no-store';
export const runtime = 'nodejs';

/** Request headers worth forwarding; hop-by-hop and host headers are not, nor credentials (cookies, a browser's own Authorization). */
const REQUEST_HEADERS = ['content-type', 'accept', 'last-event-id', 'trpc-accept', 'x-trpc-source'];
/** Response headers worth passing back. content-length/-encoding are not: fetch decodes the body. */
const RESPONSE_HEADERS = ['content-type', 'cache-control', 'vary', 'trpc-accept'];

/** Specs are at most 200k characters; nothing the dashboard sends comes near this. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

const JSON_RPC_CODE = { UNAUTHORIZED: -32001, FORBIDDEN: -32003, PAYLOAD_TOO_LARGE: -32600, BAD_GATEWAY: -32603, INTERNAL_SERVER_ERROR: -32603 } as const;

/** A refusal shaped as tRPC answers (an array for a batch, one error per call), so the client's TRPCClientError carries it. */
function refuse(req: NextRequest, status: 401 | 403 | 413 | 500 | 502, code: keyof typeof JSON_RPC_CODE, lmsweepCode: string, message: string): Response {
  const incoming = new URL(req.url);
  const one = { error: { message, code: JSON_RPC_CODE[code], data: { code, httpStatus: status, lmsweepCode } } };
  const calls = procedureCalls(incoming.pathname) ?? [''];
  const body = incoming.searchParams.get('batch') === '1' ? calls.map(() => one) : one;
  return Response.json(body, { status, headers: { 'cache-control': 'no-store' } });
}

async function proxy(req: NextRequest): Promise<Response> {
  // Another site's page gets nothing: not a read (a no-cors GET of sweeps.validate, a held-open
  // live.changes stream), let alone a write.
  const origin = requestOrigin(req.headers);
  if (origin === 'foreign') return refuse(req, 403, 'FORBIDDEN', 'FOREIGN_ORIGIN', "refused: another site's page may not call this dashboard");

  let base: string;
  let apiToken: string | undefined;
  try {
    ({ LMSWEEP_URL: base, LMSWEEP_API_TOKEN: apiToken } = dashboardEnv());
  } catch (e) {
    logServerError('the dashboard cannot forward: its configuration is invalid', { error: e });
    return refuse(req, 500, 'INTERNAL_SERVER_ERROR', 'DASHBOARD_MISCONFIGURED', "the dashboard's configuration is invalid (its server log says how)");
  }
  const incoming = new URL(req.url);
  const target = `${base}${incoming.pathname}${incoming.search}`;

  const headers = new Headers();
  for (const name of REQUEST_HEADERS) {
    const v = req.headers.get(name);
    if (v !== null) headers.set(name, v);
  }
  if (writes(incoming.pathname)) {
    if (apiToken) {
      if (!verifySession(sessionFromCookieHeader(req.headers.get('cookie')))) {
        return refuse(req, 401, 'UNAUTHORIZED', 'SIGN_IN_REQUIRED', 'sign in to launch or cancel: this dashboard guards them with the API token');
      }
      // A session cookie travels with any request the browser sends here: only this
      // dashboard's own pages may use it to write.
      if (origin !== 'same') return refuse(req, 403, 'FORBIDDEN', 'FOREIGN_ORIGIN', "refused: a signed-in write must come from the dashboard's own page (Origin)");
      headers.set('authorization', `Bearer ${apiToken}`);
    } else {
      // Without a token anyone who reaches the dashboard may launch: it must be this machine's alone.
      if (listenScope() === 'network') {
        return refuse(req, 403, 'FORBIDDEN', 'NETWORK_WITHOUT_TOKEN', 'refused: this dashboard listens beyond loopback without an API token; set LMSWEEP_API_TOKEN (launches then need a sign-in) or start it with -H 127.0.0.1');
      }
      // A browser sends Origin with every POST: a write without one is not from a page of ours.
      if (origin !== 'same') return refuse(req, 403, 'FORBIDDEN', 'ORIGIN_REQUIRED', "refused: a launch or cancel must come from the dashboard's own page (Origin); scripts launch at the coordinator (lmsweep launch)");
    }
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const body = hasBody ? await readBody(req, MAX_BODY_BYTES) : undefined;
  if (body === null) return refuse(req, 413, 'PAYLOAD_TOO_LARGE', 'PAYLOAD_TOO_LARGE', `the dashboard takes request bodies of at most ${MAX_BODY_BYTES} bytes`);

  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: req.method,
      headers,
      body,
      // When the browser goes away (an EventSource closed), stop the upstream request too.
      signal: req.signal,
      cache: 'no-store',
      redirect: 'manual',
    });
  } catch (e) {
    if (req.signal.aborted) return new Response(null, { status: 499 });
    // The client learns only that; the address and the reason stay in the server's log.
    logServerError('coordinator unreachable', { target: base, error: e });
    return refuse(req, 502, 'BAD_GATEWAY', 'COORDINATOR_UNREACHABLE', 'coordinator unreachable');
  }

  const out = new Headers();
  for (const name of RESPONSE_HEADERS) {
    const v = upstream.headers.get(name);
    if (v !== null) out.set(name, v);
  }
  if (out.get('content-type')?.startsWith('text/event-stream')) {
    out.set('cache-control', 'no-cache, no-transform');
    out.set('x-accel-buffering', 'no');
  } else if (!out.has('cache-control')) {
    out.set('cache-control', 'no-store');
  }
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers: out });
}

export const GET = proxy;
export const POST = proxy;
