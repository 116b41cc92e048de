// The dashboard server's configuration, parsed once from the environment. Server-side only:
// the browser never sees the coordinator's address, it talks to /trpc on the dashboard.
import { z } from 'zod';
import { parseAllowedHosts } from './server/host-check';

const Env = z.object({
  LMSWEEP_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:4317')
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

/** Read at request time (not at build time), so one build can point at any coordinator. */
export function dashboardEnv(): DashboardEnv {
  if (!cached) {
    const parsed = Env.safeParse({
      LMSWEEP_URL: process.env.LMSWEEP_URL || undefined,
      LMSWEEP_API_TOKEN: process.env.LMSWEEP_API_TOKEN || undefined,
      LMSWEEP_DASHBOARD_HOSTS: process.env.LMSWEEP_DASHBOARD_HOSTS || undefined,
    });
    if (!parsed.success) {
      throw new Error(`dashboard configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    cached = Object.freeze(parsed.data);
  }
  return cached;
}
