// Next.js config for the lmsweep dashboard. The coordinator's address is read at request time
// (LMSWEEP_URL, see src/env.ts), so one build serves any coordinator.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

process.env.NEXT_TELEMETRY_DISABLED = '1';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const config: NextConfig = {
  // Workspace packages export their .ts sources; the dashboard imports types from @lmsweep/api
  // and nothing else at run time, but Next must still be able to transpile them if it follows one.
  transpilePackages: ['@lmsweep/api', '@lmsweep/protocol'],
  typedRoutes: false,
  poweredByHeader: false,
  reactStrictMode: true,
  // The tRPC proxy streams server-sent events; gzip would buffer them.
  compress: false,
  experimental: {
    // Next.js buffers a request's body for the Proxy (proxy.ts runs on every request) before any
    // route reads it, up to this size (10 MB by default); past it the rest is dropped. The routes
    // take at most 2 MB (/trpc) and 8 KB (sign-in, sign-out), counted as they read: 3 MB keeps a
    // cut body over both limits, so it is refused, not read as a whole one.
    proxyClientMaxBodySize: 3 * 1024 * 1024,
  },
  // node_modules live at the repository root (npm workspaces).
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
};

export default config;
