// Tokens: who may connect as a worker and who may change things through the API. The comparison
// itself is shared with the dashboard's sign-in (@lmsweep/protocol/token).
export { tokenMatches } from '@lmsweep/protocol/token';

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const h = Array.isArray(header) ? header[0] : header;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m ? m[1]! : null;
}
