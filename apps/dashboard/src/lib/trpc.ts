// The browser's tRPC client: queries and mutations batched over HTTP, subscriptions over SSE,
// all through the dashboard's own /trpc proxy (app/trpc/[trpc]/route.ts).
import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
  type TRPCClient,
} from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@lmsweep/api';
// The coordinator refuses a larger batch.
import { MAX_API_BATCH } from '@lmsweep/protocol/limits';

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

let client: TRPCClient<AppRouter> | null = null;

/** Procedures asked for on their own rather than in a batch. */
const SLOW = new Set(['sweeps.analysis']);

/** One client per page load, created on first use in the browser (never during server rendering). */
export function trpc(): TRPCClient<AppRouter> {
  if (typeof window === 'undefined') throw new Error('the tRPC client is browser-only');
  client ??= createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: '/trpc' }),
        // Queries go as POST (the coordinator allows the override): a long spec never outgrows a URL.
        // The analysis of a large sweep takes the coordinator a second or more: alone, so the
        // page's other answers (its trials, its leaderboard) arrive and draw without waiting for it.
        false: splitLink({
          condition: (op) => SLOW.has(op.path),
          true: httpLink({ url: '/trpc', methodOverride: 'POST' }),
          false: httpBatchLink({ url: '/trpc', methodOverride: 'POST', maxItems: MAX_API_BATCH }),
        }),
      }),
    ],
  });
  return client;
}

export interface FieldIssue {
  path: string;
  message: string;
}

interface ErrorData {
  lmsweepCode?: string;
  fieldIssues?: FieldIssue[];
  httpStatus?: number;
}

function errorData(e: unknown): ErrorData | undefined {
  return e instanceof TRPCClientError ? ((e.data ?? undefined) as ErrorData | undefined) : undefined;
}

/** The field issues of an INVALID_SPEC / INVALID_INPUT refusal, if that is what this is. */
export function fieldIssuesOf(e: unknown): FieldIssue[] | null {
  const d = errorData(e);
  if (d?.fieldIssues?.length && (d.lmsweepCode === 'INVALID_SPEC' || d.lmsweepCode === 'INVALID_INPUT')) return d.fieldIssues;
  return null;
}

/** The dashboard refused a launch or cancel for want of a signed-in session (it has an API token). */
export function needsSignIn(e: unknown): boolean {
  return errorData(e)?.lmsweepCode === 'SIGN_IN_REQUIRED';
}

export function isNotFound(e: unknown): boolean {
  const d = errorData(e);
  return d?.lmsweepCode === 'NOT_FOUND' || d?.httpStatus === 404;
}

/** A one-line description of a failed call, for banners. */
export function describeError(e: unknown): string {
  const d = errorData(e);
  if (d?.lmsweepCode === 'COORDINATOR_UNREACHABLE' || d?.httpStatus === 502) return 'coordinator unreachable';
  if (e instanceof TRPCClientError) {
    // fetch() itself failed: the dashboard server is down (or the network is).
    if (e.cause instanceof TypeError || /failed to fetch|networkerror|load failed/i.test(e.message)) return 'dashboard server unreachable';
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}
