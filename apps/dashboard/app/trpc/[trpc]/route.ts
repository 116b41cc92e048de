// /trpc/* → ${LMSWEEP_URL}/trpc/*: the browser talks only to the dashboard, which forwards
// every tRPC call to the coordinator. Bodies stream through untouched, so the server-sent
// events of subscriptions (live.changes) arrive as they are written.
//
// Reads are forwarded for anyone. A write (a mutation, or a name the API type does not know) is
// refused when it comes from another site's page (Origin); and when the dashboard has an API
// token, it is forwarded only for a signed-in session, with the token added to it alone.
import type { NextRequest } from 'next/server';
import { dashboardEnv } from '../../../src/env';
import { procedureCalls, writes } from '../../../src/lib/procedures';
import { requestOrigin } from '../../../src/server/host-check';
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

/** A tRPC-shaped error, so the client's TRPCClientError carries our message and code. */
function unreachable(target: string, cause: unknown): Response {
  const reason = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
  const body = {
    error: {
      message: 'coordinator unreachable',
      code: -32603,
      data: { code: 'BAD_GATEWAY', httpStatus: 502, lmsweepCode: 'COORDINATOR_UNREACHABLE', coordinator: target, reason },
    },
  };
  return Response.json(body, { status: 502, headers: { 'cache-control': 'no-store' } });
}

const JSON_RPC_CODE = { UNAUTHORIZED: -32001, FORBIDDEN: -32003 } as const;

/** A refusal shaped as tRPC answers (an array for a batch, one error per call), so the client's TRPCClientError carries it. */
function refuse(req: NextRequest, status: 401 | 403, code: keyof typeof JSON_RPC_CODE, lmsweepCode: string, message: string): Response {
  const incoming = new URL(req.url);
  const one = { error: { message, code: JSON_RPC_CODE[code], data: { code, httpStatus: status, lmsweepCode } } };
  const calls = procedureCalls(incoming.pathname) ?? [''];
  const body = incoming.searchParams.get('batch') === '1' ? calls.map(() => one) : one;
  return Response.json(body, { status, headers: { 'cache-control': 'no-store' } });
}

async function proxy(req: NextRequest): Promise<Response> {
  let base: string;
  let apiToken: string | undefined;
  try {
    ({ LMSWEEP_URL: base, LMSWEEP_API_TOKEN: apiToken } = dashboardEnv());
  } catch (e) {
    return unreachable(String(process.env.LMSWEEP_URL), e);
  }
  const incoming = new URL(req.url);
  const target = `${base}${incoming.pathname}${incoming.search}`;

  const headers = new Headers();
  for (const name of REQUEST_HEADERS) {
    const v = req.headers.get(name);
    if (v !== null) headers.set(name, v);
  }
  if (writes(incoming.pathname)) {
    const origin = requestOrigin(req.headers);
    if (origin === 'foreign') return refuse(req, 403, 'FORBIDDEN', 'FOREIGN_ORIGIN', 'refused: this request to launch or cancel came from another site');
    if (apiToken) {
      if (!verifySession(sessionFromCookieHeader(req.headers.get('cookie')))) {
        return refuse(req, 401, 'UNAUTHORIZED', 'SIGN_IN_REQUIRED', 'sign in to launch or cancel: this dashboard guards them with the API token');
      }
      // A session cookie travels with any request the browser sends here: only this
      // dashboard's own pages may use it to write.
      if (origin !== 'same') return refuse(req, 403, 'FORBIDDEN', 'FOREIGN_ORIGIN', 'refused: a signed-in write must come from the dashboard\'s own page (Origin)');
      headers.set('authorization', `Bearer ${apiToken}`);
    }
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  if (hasBody && Number(req.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) {
    return Response.json({ error: { message: `request body over ${MAX_BODY_BYTES} bytes`, code: -32600, data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 } } }, { status: 413 });
  }

  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: req.method,
      headers,
      body: hasBody ? await req.arrayBuffer() : undefined,
      // When the browser goes away (an EventSource closed), stop the upstream request too.
      signal: req.signal,
      cache: 'no-store',
      redirect: 'manual',
    });
  } catch (e) {
    if (req.signal.aborted) return new Response(null, { status: 499 });
    return unreachable(base, e);
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
