import { publicProcedure, router } from '../init.ts';

export const workersRouter = router({
  list: publicProcedure.query(({ ctx }) => ctx.store.listWorkers()),
});
