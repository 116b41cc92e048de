// Limits every client and the coordinator agree on. No zod here: the dashboard's browser bundle
// imports this file alone (@lmsweep/protocol/limits).

/** Most calls one batched tRPC request may carry (the coordinator refuses more; clients batch at most this many). */
export const MAX_API_BATCH = 16;
/** Largest tRPC request body the coordinator reads (a spec is at most 200k characters). */
export const MAX_API_BODY_BYTES = 1 << 20;
