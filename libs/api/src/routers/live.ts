import { z } from 'zod';
import type { Change } from '@lmsweep/db';
import { publicProcedure, router } from '../init.ts';

export const liveRouter = router({
  /** Changes to sweeps, trials and workers as they happen (server-sent events), from the database's NOTIFY. */
  changes: publicProcedure
    .input(z.object({ sweepId: z.string().min(1).max(100).optional() }).default({}))
    .subscription(async function* ({ ctx, input, signal }) {
      const queue: Change[] = [];
      let wake: (() => void) | null = null;
      const unlisten = await ctx.db.listen((c) => {
        if (input.sweepId && c.sweepId && c.sweepId !== input.sweepId) return;
        if (queue.length < 1000) queue.push(c);
        wake?.();
      });
      const onAbort = () => wake?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        while (!signal?.aborted) {
          if (queue.length === 0) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
          }
          while (queue.length) yield queue.shift()!;
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        await unlisten();
      }
    }),
});
