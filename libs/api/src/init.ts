// tRPC initialisation: the context every procedure sees, the error shape clients branch on.
import { initTRPC, TRPCError } from '@trpc/server';
import { z } from 'zod';
import { SpecError, type FieldIssue, zodIssues } from '@lmsweep/protocol';
import type { Db, TrialStore } from '@lmsweep/db';
import { type SpecChecks, SpecChecksBusyError } from './spec-checks.ts';

export interface ApiContext {
  db: Db;
  store: TrialStore;
  /**
   * Where specs are checked and expanded, with the host's launch-time checks (e.g. that the
   * dataset exists where workers look); default: in place, no file checks (inlineSpecChecks).
   */
  specs?: SpecChecks;
  /** Whether this request may change things (the host checked its API token). Reads are always allowed. */
  canWrite: boolean;
}

/**
 * Domain error codes, stable for clients. BUSY: the coordinator has as many specs queued for
 * checking as it takes, or this address validated too often (retry); BATCH_TOO_LARGE,
 * FORBIDDEN_HOST and TOO_MANY_SUBSCRIPTIONS come from the coordinator's HTTP layer (more than
 * MAX_API_BATCH calls in one request; a Host or Origin that is not its own; too many live
 * subscriptions open).
 */
export type ApiErrorCode = 'INVALID_SPEC' | 'INVALID_INPUT' | 'NOT_FOUND' | 'UNAUTHORIZED' | 'PAYLOAD_TOO_LARGE' | 'BUSY' | 'BATCH_TOO_LARGE' | 'FORBIDDEN_HOST' | 'TOO_MANY_SUBSCRIPTIONS' | 'INTERNAL';

export class NotFoundError extends Error {
  constructor(what: string, id: string) {
    super(`${what} ${id} not found`);
    this.name = 'NotFoundError';
  }
}

const t = initTRPC.context<ApiContext>().create({
  errorFormatter({ shape, error }) {
    let fieldIssues: FieldIssue[] | undefined;
    let code: ApiErrorCode = 'INTERNAL';
    if (error.cause instanceof SpecError) {
      fieldIssues = error.cause.issues;
      code = 'INVALID_SPEC';
    } else if (error.cause instanceof z.ZodError) {
      fieldIssues = zodIssues(error.cause);
      code = 'INVALID_INPUT';
    } else if (error.code === 'NOT_FOUND') code = 'NOT_FOUND';
    else if (error.code === 'UNAUTHORIZED') code = 'UNAUTHORIZED';
    else if (error.code === 'PAYLOAD_TOO_LARGE') code = 'PAYLOAD_TOO_LARGE';
    else if (error.code === 'TOO_MANY_REQUESTS') code = 'BUSY';
    else if (error.code === 'BAD_REQUEST') code = 'INVALID_INPUT';
    // An unexpected error's message can carry internals (SQL, file paths): the log has it, the caller does not.
    const message = code === 'INTERNAL' && error.code === 'INTERNAL_SERVER_ERROR' ? "internal error (the coordinator's log has the details)" : shape.message;
    return { ...shape, message, data: { ...shape.data, stack: undefined, lmsweepCode: code, fieldIssues } };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure.use(async ({ next }) => {
  try {
    return await next();
  } finally {
    // (room for timing/logging middleware)
  }
});

/** For mutations: refused with UNAUTHORIZED unless the request carried the API token. */
export const writeProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.canWrite) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'this call changes things and needs the API token: send `Authorization: Bearer <token>` (lmsweep: --token or LMSWEEP_TOKEN)' });
  return next();
});

/** Maps domain exceptions thrown inside a procedure to tRPC errors. */
export function toTrpcError(e: unknown): never {
  if (e instanceof TRPCError) throw e;
  if (e instanceof SpecError) throw new TRPCError({ code: 'BAD_REQUEST', message: e.message, cause: e });
  if (e instanceof NotFoundError) throw new TRPCError({ code: 'NOT_FOUND', message: e.message, cause: e });
  if (e instanceof SpecChecksBusyError) throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: e.message, cause: e });
  throw e;
}
