// The dashboard server's configuration, parsed once from the environment. Server-side only:
// the browser never sees the coordinator's address, it talks to /trpc on the dashboard.
import { z } from 'zod';

const Env = z.object({
  LMSWEEP_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:4317')
    .transform((u) => u.replace(/\/+$/, '')),
  /** Sent as `Authorization: Bearer …` to the coordinator, so the launch form and cancel work when it has an API token. */
  LMSWEEP_API_TOKEN: z.string().min(1).max(500).optional(),
});

export type DashboardEnv = Readonly<z.infer<typeof Env>>;

let cached: DashboardEnv | null = null;

/** Read at request time (not at build time), so one build can point at any coordinator. */
export function dashboardEnv(): DashboardEnv {
  if (!cached) {
    const parsed = Env.safeParse({ LMSWEEP_URL: process.env.LMSWEEP_URL || undefined, LMSWEEP_API_TOKEN: process.env.LMSWEEP_API_TOKEN || undefined });
    if (!parsed.success) {
      throw new Error(`LMSWEEP_URL / LMSWEEP_API_TOKEN: ${parsed.error.issues.map((i) => i.message).join('; ')} (got ${JSON.stringify(process.env.LMSWEEP_URL)})`);
    }
    cached = Object.freeze(parsed.data);
  }
  return cached;
}
