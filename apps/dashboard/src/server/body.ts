// Request bodies read with a limit that holds whatever the client declares: the bytes are counted
// as they arrive (a chunked body has no Content-Length, and a declared one may lie), and reading
// stops at the first chunk past the limit. (Next.js has buffered the body for the Proxy before a
// route reads it, up to next.config.ts's proxyClientMaxBodySize.) Server-side only.

/** The whole body, or null as soon as it is known to exceed `maxBytes` (declared or counted); the rest is left unread. */
export async function readBody(req: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = req.headers.get('content-length');
  if (declared !== null && !(Number(declared) <= maxBytes)) return null;
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) return null;
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** A form (urlencoded or multipart) from a body already read, or null when it is not one. */
export async function parseForm(body: Uint8Array<ArrayBuffer>, contentType: string | null): Promise<FormData | null> {
  try {
    return await new Response(body, { headers: contentType ? { 'content-type': contentType } : {} }).formData();
  } catch {
    return null;
  }
}
