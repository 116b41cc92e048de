// The dashboard server's configuration, parsed once from the environment. Server-side only:
// the browser never sees the coordinator's address, it talks to /trpc on the dashboard.
import { z } from 'zod';
import { parseAllowedHosts } from './server/host-check';

const Env = z.object({
  LMSWEEP_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:4317')
    // fetch refuses a URL with credentials in it, and the dashboard must never show them.
    .refine((u) => !/^[a-z]+:\/\/[^/?#]*@/i.test(u), 'must not carry a user name or password (user:pass@): the coordinator takes an API token (LMSWEEP_API_TOKEN)')
    .transform((u) => u.replace(/\/+$/, '')),
  /**
   * The coordinator's API token. With it the dashboard asks its users to sign in (with this
   * token, once) and adds it, as `Authorization: Bearer …`, only to the launches and cancels of a
   * signed-in session.
   */
  LMSWEEP_API_TOKEN: z.string().min(1).max(500).optional(),
  /** Names this dashboard answers to besides loopback ones ("dash.example.org,10.0.0.5:3000"); any other Host is refused. */
  LMSWEEP_DASHBOARD_HOSTS: z
    .string()
    .max(4000)
    .optional()
    .transform((v, ctx) => {
      try {
        return parseAllowedHosts(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    }),
});

export type DashboardEnv = Readonly<z.infer<typeof Env>>;

let cached: DashboardEnv | null = null;

/** The configuration from these variables; throws naming each bad variable (never its value: a URL may hold a password, a token is one). */
export function parseDashboardEnv(vars: Readonly<Record<string, string | undefined>>): DashboardEnv {
  const parsed = Env.safeParse({
    LMSWEEP_URL: vars.LMSWEEP_URL || undefined,
    LMSWEEP_API_TOKEN: vars.LMSWEEP_API_TOKEN || undefined,
    LMSWEEP_DASHBOARD_HOSTS: vars.LMSWEEP_DASHBOARD_HOSTS || undefined,
  });
  if (!parsed.success) {
    throw new Error(`dashboard configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return Object.freeze(parsed.data);
}

/** Read at request time (not at build time), so one build can point at any coordinator. */
export function dashboardEnv(): DashboardEnv {
  cached ??= parseDashboardEnv(process.env);
  return cached;
}
