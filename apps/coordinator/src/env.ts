// The coordinator's configuration, parsed once from the environment with zod (the CLI passes it
// to startCoordinator; the library itself takes options and never reads tokens from env).
import { z } from 'zod';
import { DEFAULT_COORDINATOR_PORT } from '@lmsweep/protocol';
import type { ConnectionLimits } from './connection-limits.ts';

const token = z
  .string()
  .min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 24`)')
  .max(500)
  .regex(/^\S+$/, 'must not contain whitespace');
const optional = <T extends z.ZodType>(s: T) => z.preprocess((v) => (v === '' ? undefined : v), s.optional());
const count = (max: number) => optional(z.coerce.number().int().min(1).max(max));

const Env = z.object({
  /** Workers must send this in their hello. */
  LMSWEEP_WORKER_TOKEN: optional(token),
  /** tRPC mutations (create, cancel) need `Authorization: Bearer <this>`. */
  LMSWEEP_API_TOKEN: optional(token),
  LMSWEEP_HOST: optional(z.string().min(1).max(255)),
  /** Comma-separated host names the coordinator also answers to ("name", "name:port", "*"): see host-check.ts. */
  LMSWEEP_ALLOWED_HOSTS: optional(z.string().max(4000)).transform((v) => parseAllowedHosts(v)),
  LMSWEEP_PORT: optional(z.coerce.number().int().min(0).max(65_535)).transform((p) => p ?? DEFAULT_COORDINATOR_PORT),
  DATABASE_URL: optional(z.string().min(1)),
  LMSWEEP_LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  /** Worker sockets (connection-limits.ts): close one without a valid hello after this long. */
  LMSWEEP_HELLO_TIMEOUT_MS: count(600_000),
  LMSWEEP_PING_INTERVAL_MS: count(3_600_000),
  LMSWEEP_MAX_UNAUTHENTICATED_PER_ADDRESS: count(1_000_000),
  LMSWEEP_MAX_SOCKETS_PER_ADDRESS: count(1_000_000),
  /** Sockets without a hello from all addresses together (loopback included). */
  LMSWEEP_MAX_UNAUTHENTICATED: count(1_000_000),
  /** `1`: the per-address caps apply to loopback peers too (a proxy on this machine). */
  LMSWEEP_LIMIT_LOOPBACK: optional(z.enum(['0', '1'])),
});

/** "a, b:8080" → ["a", "b:8080"]; undefined stays undefined (the option and the variable read alike). */
export function parseAllowedHosts(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return v.split(',').map((h) => h.trim()).filter(Boolean);
}

export type CoordinatorEnv = Readonly<z.infer<typeof Env>>;

/** Parses the coordinator's environment; throws one readable error naming every bad variable. */
export function coordinatorEnv(env: NodeJS.ProcessEnv = process.env): CoordinatorEnv {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new Error(`bad coordinator environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return Object.freeze(parsed.data);
}

/** The worker-socket limits the environment sets (startCoordinator's connectionLimits); the rest keep their defaults. */
export function connectionLimits(env: CoordinatorEnv): Partial<ConnectionLimits> {
  const out: Partial<ConnectionLimits> = {};
  if (env.LMSWEEP_HELLO_TIMEOUT_MS !== undefined) out.helloTimeoutMs = env.LMSWEEP_HELLO_TIMEOUT_MS;
  if (env.LMSWEEP_PING_INTERVAL_MS !== undefined) out.pingIntervalMs = env.LMSWEEP_PING_INTERVAL_MS;
  if (env.LMSWEEP_MAX_UNAUTHENTICATED_PER_ADDRESS !== undefined) out.maxUnauthenticatedPerAddress = env.LMSWEEP_MAX_UNAUTHENTICATED_PER_ADDRESS;
  if (env.LMSWEEP_MAX_SOCKETS_PER_ADDRESS !== undefined) out.maxPerAddress = env.LMSWEEP_MAX_SOCKETS_PER_ADDRESS;
  if (env.LMSWEEP_MAX_UNAUTHENTICATED !== undefined) out.maxUnauthenticated = env.LMSWEEP_MAX_UNAUTHENTICATED;
  if (env.LMSWEEP_LIMIT_LOOPBACK !== undefined) out.exemptLoopback = env.LMSWEEP_LIMIT_LOOPBACK === '0';
  return out;
}
