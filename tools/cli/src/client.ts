// A tRPC client for scripts and the CLI.
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@lmsweep/api';
import { DEFAULT_COORDINATOR_PORT, MAX_API_BATCH } from '@lmsweep/protocol';

export const defaultCoordinatorUrl = () => process.env.LMSWEEP_URL ?? `http://127.0.0.1:${DEFAULT_COORDINATOR_PORT}`;

/** The API token to send: --token, else $LMSWEEP_TOKEN (mutations need it when the coordinator has one). */
export const defaultToken = (): string | undefined => process.env.LMSWEEP_TOKEN || undefined;

export function apiClient(url: string, token: string | undefined = defaultToken()) {
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${url.replace(/\/$/, '')}/trpc`, maxItems: MAX_API_BATCH, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) })],
  });
}
export type ApiClient = ReturnType<typeof apiClient>;

/** A readable message for an API error: field issues one per line. */
export function describeApiError(e: unknown): string {
  if (e instanceof TRPCClientError) {
    const issues = (e.data as { fieldIssues?: { path: string; message: string }[] } | undefined)?.fieldIssues;
    if ((e.data as { code?: string } | undefined)?.code === 'UNAUTHORIZED') return `${e.message}`;
    if (issues?.length) return issues.map((i) => `${i.path || '(spec)'}: ${i.message}`).join('\n');
    if (/fetch failed|ECONNREFUSED/.test(e.message)) return `cannot reach the coordinator (${e.message}); start one with \`lmsweep coordinator\` or set LMSWEEP_URL`;
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
