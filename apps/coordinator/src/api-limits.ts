// Refusals in the HTTP layer, before tRPC reads a request: tRPC-shaped, so the clients'
// TRPCClientError carries the message and the domain code (lmsweepCode).
import type { ServerResponse } from 'node:http';
import type { ApiErrorCode } from '@lmsweep/api';

/** JSON-RPC codes tRPC uses for these HTTP statuses. */
const RPC_CODE: Record<string, number> = { BAD_REQUEST: -32600, PAYLOAD_TOO_LARGE: -32600, FORBIDDEN: -32003 };

export function apiRefusal(res: ServerResponse, status: number, code: 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE' | 'FORBIDDEN', lmsweepCode: ApiErrorCode, message: string): void {
  const body = { error: { message, code: RPC_CODE[code], data: { code, httpStatus: status, lmsweepCode } } };
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify(body));
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
