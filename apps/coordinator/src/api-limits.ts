// Refusals in the HTTP layer, before tRPC reads a request: tRPC-shaped, so the clients'
// TRPCClientError carries the message and the domain code (lmsweepCode).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiErrorCode } from '@lmsweep/api';

/** JSON-RPC codes tRPC uses for these HTTP statuses. */
const RPC_CODE: Record<string, number> = { BAD_REQUEST: -32600, PAYLOAD_TOO_LARGE: -32600, FORBIDDEN: -32003, TOO_MANY_REQUESTS: -32029 };

export function apiRefusal(res: ServerResponse, status: number, code: 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE' | 'FORBIDDEN' | 'TOO_MANY_REQUESTS', lmsweepCode: ApiErrorCode, message: string): void {
  const body = { error: { message, code: RPC_CODE[code], data: { code, httpStatus: status, lmsweepCode } } };
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify(body));
}

/** The procedure a tRPC request calls when it calls one alone (not batched), or null. */
export function singleProcedure(url: string | undefined): string | null {
  const u = new URL(url ?? '/', 'http://x');
  if (u.searchParams.get('batch') === '1') return null;
  const path = u.pathname.slice(u.pathname.indexOf('/trpc/') + '/trpc/'.length);
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}

/** Why a batched tRPC request (`/trpc/a,b,c?batch=1`) carries too many calls, or null. */
export function batchSizeIssue(url: string | undefined, max: number): string | null {
  const u = new URL(url ?? '/', 'http://x');
  if (u.searchParams.get('batch') !== '1') return null;
  let path = u.pathname.slice(u.pathname.indexOf('/trpc/') + '/trpc/'.length);
  try {
    path = decodeURIComponent(path);
  } catch {
    // not decodable: tRPC refuses it itself
  }
  const calls = path.split(',').length;
  return calls > max ? `a batched request carries at most ${max} calls; this one has ${calls} (send the rest in further requests)` : null;
}

/**
 * Reads a tRPC request's body, at most `max` bytes, counting what arrives (a chunked body has no
 * content-length): the one body limit. Refuses one declared over the limit before reading any of
 * it, and one that passes it as soon as it does (413, naming the limit; the rest is not read).
 * Resolves with the body as text (undefined for a GET), or null when it refused (or the client went away).
 */
export async function readApiBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<string | undefined | null> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const tooLarge = () => apiRefusal(res, 413, 'PAYLOAD_TOO_LARGE', 'PAYLOAD_TOO_LARGE', `request body over ${max} bytes (the coordinator's limit)`);
  if (Number(req.headers['content-length'] ?? 0) > max) {
    tooLarge();
    return null;
  }
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) {
        tooLarge();
        return null;
      }
      parts.push(chunk);
    }
  } catch {
    return null; // the client went away mid-body
  }
  return Buffer.concat(parts, size).toString('utf8');
}
