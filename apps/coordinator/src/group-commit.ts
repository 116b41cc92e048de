// Group commit: the requests of one kind (claims, heartbeats, metric reports, results) that arrive
// while the previous statement of that kind runs go to the database together in the next one
// (TrialStore.claimMany, heartbeatMany, addMetricsMany, completeMany). A thousand busy workers then cost a few
// statements per round, not a thousand queued ones; each request still gets its own answer, and
// fencing is per row inside the statement.

interface Waiting<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<I, O> {
  private queue: Waiting<I, O>[] = [];
  private draining = false;

  constructor(
    /** Runs one batch; returns one answer per item, in order. */
    private readonly run: (items: I[]) => Promise<O[]>,
    /** Most items per statement. */
    private readonly maxBatch = 500,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        // Requests read from sockets in this turn of the event loop join the batch.
        await new Promise((r) => setImmediate(r));
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const out = await this.run(batch.map((w) => w.item));
          batch.forEach((w, i) => w.resolve(out[i]!));
        } catch (e) {
          for (const w of batch) w.reject(e);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
