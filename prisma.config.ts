// Prisma CLI configuration: no engine binaries. The CLI's wasm schema engine talks to the
// database through the same driver adapter the coordinator uses (libs/db/src/adapter.ts):
// PGlite in a data directory by default, a PostgreSQL server when DATABASE_URL is postgres://.
import { defineConfig } from 'prisma/config';
import { migrationAdapterFactory } from './libs/db/src/adapter.ts';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  adapter: async () => migrationAdapterFactory(process.env.DATABASE_URL),
});
