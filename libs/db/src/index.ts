// @lmsweep/db: the Prisma client factory (PGlite | PostgreSQL), migrations at open, live changes
// through LISTEN/NOTIFY, and the trial store. Test helpers: '@lmsweep/db/testing'.
export { type DbTarget, DEFAULT_DATA_DIR, describeTarget, pgPoolConfig, resolveDatabase } from './adapter.ts';
export { CHANGES_CHANNEL, type Change, type Db, type ListenOptions, type OpenDatabaseOptions, openDatabase, parseChange } from './database.ts';
export { DEFAULT_MIGRATIONS_DIR, MIGRATION_LOCK_KEY, type MigrationFile, migratePglite, migratePostgres, readMigrations } from './migrate.ts';
export type { DbLogger } from './logger.ts';
export { newId } from './ids.ts';
export * from './trial-store.ts';
export { ARTIFACT_CHUNK_BYTES, type ArtifactInfo, type ArtifactLocation, ArtifactStore, type Upload } from './artifact-store.ts';
export { ArtifactFiles } from './artifact-files.ts';
export type { SlurmJob, Sweep, Trial, TrialMetric, Worker } from './generated/client.ts';
