// The dashboard server's own log lines (stderr, beside Next.js's): what it keeps from its clients
// (the coordinator's address, why it could not be reached) is written here instead. Server-side only.

/** `lmsweep dashboard ERROR coordinator unreachable target="http://…" reason="ECONNREFUSED …"`. */
export function logServerError(message: string, fields: Readonly<Record<string, unknown>> = {}): void {
  const extra = Object.entries(fields).map(([k, v]) => ` ${k}=${JSON.stringify(v instanceof Error ? errorText(v) : v)}`);
  console.error(`lmsweep dashboard ERROR ${message}${extra.join('')}`);
}

/** An error's message with its causes ("fetch failed: connect ECONNREFUSED 10.0.0.5:4317"). */
export function errorText(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur !== undefined && cur !== null && depth < 4; depth++) {
    parts.push(cur instanceof Error ? cur.message : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(': ');
}
