import { publicProcedure, router } from './init.ts';
import { leaderboardRouter } from './routers/leaderboard.ts';
import { liveRouter } from './routers/live.ts';
import { slurmRouter } from './routers/slurm.ts';
import { sweepsRouter } from './routers/sweeps.ts';
import { trialsRouter } from './routers/trials.ts';
import { workersRouter } from './routers/workers.ts';

export const appRouter = router({
  health: publicProcedure.query(({ ctx }) => ({ ok: true, database: ctx.db.target.kind })),
  sweeps: sweepsRouter,
  trials: trialsRouter,
  leaderboard: leaderboardRouter,
  workers: workersRouter,
  slurm: slurmRouter,
  live: liveRouter,
});

export type AppRouter = typeof appRouter;
