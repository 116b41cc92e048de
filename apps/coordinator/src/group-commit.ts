// Group commit: the requests of one kind (claims, heartbeats, metric reports, results) that arrive
// while the previous statement of that kind runs go to the database together in the next one
// (TrialStore.claimMany, heartbeatMany, addMetricsMany, completeMany). A thousand busy workers then cost a few
// statements per round, not a thousand queued ones; each request still gets its own answer, and
// fencing is per row inside the statement.
//
// One item the database refuses must not fail the others: a batch whose statement fails is retried
// in halves, down to single items, so only the item whose own statement fails is rejected (with
// GroupItemError). The store's batch statements are atomic, so a failed one changed nothing and
// running its items again is safe.

interface Waiting<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/** An item whose own statement failed: `message` is one short line saying why; `cause` is the database's error. */
export class GroupItemError extends Error {
  override name = 'GroupItemError';
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** One line saying why a statement failed: the database's own message where the driver gives it, else the error's last line. */
export function shortReason(e: unknown): string {
  const cause = (e as { meta?: { driverAdapterError?: { cause?: { code?: unknown; message?: unknown } } } } | null)?.meta?.driverAdapterError?.cause;
  let line: string;
  if (cause && typeof cause.message === 'string') line = typeof cause.code === 'string' ? `${cause.code}: ${cause.message}` : cause.message;
  else {
    const text = e instanceof Error ? e.message : String(e);
    line = text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? (e instanceof Error ? e.name : 'error');
  }
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

export interface GroupCommitOptions {
  /** Called once for each batch of several items whose statement failed, before its items are retried in smaller batches. */
  onBatchFailed?: (size: number, reason: string) => void;
}

export class GroupCommit<I, O> {
  private queue: Waiting<I, O>[] = [];
  private draining = false;

  constructor(
    /** Runs one batch; returns one answer per item, in order. */
    private readonly run: (items: I[]) => Promise<O[]>,
    /** Most items per statement. */
    private readonly maxBatch = 500,
    private readonly opts: GroupCommitOptions = {},
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
        await this.settle(this.queue.splice(0, this.maxBatch), true);
      }
    } finally {
      this.draining = false;
    }
  }

  /** Runs a batch and answers its items; when its statement fails, its halves are run on their own (one item: rejected). */
  private async settle(batch: Waiting<I, O>[], first: boolean): Promise<void> {
    let out: O[];
    try {
      out = await this.run(batch.map((w) => w.item));
    } catch (e) {
      const reason = shortReason(e);
      if (batch.length === 1) return batch[0]!.reject(new GroupItemError(reason, { cause: e }));
      if (first) this.opts.onBatchFailed?.(batch.length, reason);
      const half = Math.ceil(batch.length / 2);
      await this.settle(batch.slice(0, half), false);
      await this.settle(batch.slice(half), false);
      return;
    }
    batch.forEach((w, i) => w.resolve(out[i]!));
  }
}
