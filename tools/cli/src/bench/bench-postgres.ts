// A bench's PostgreSQL rows: a throwaway server started, handed to `run` and stopped after it,
// whatever happens; where its binaries are not installed, the rows are skipped and `say` (absent
// for --json) prints why.
import type { TestPostgres } from '@lmsweep/db/testing';

/** Runs `run` against a fresh PostgreSQL server; false when none could start (the rows skipped). */
export async function withBenchPostgres(say: ((line: string) => void) | null, run: (pg: TestPostgres) => Promise<void>): Promise<boolean> {
  const { startPostgres } = await import('@lmsweep/db/testing');
  let pg: TestPostgres;
  try {
    pg = await startPostgres();
  } catch (e) {
    say?.(`(PostgreSQL skipped: ${(e as Error).message.split('\n')[0]})`);
    return false;
  }
  try {
    await run(pg);
  } finally {
    await pg.stop();
  }
  return true;
}
