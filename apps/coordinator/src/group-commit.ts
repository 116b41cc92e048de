// Group commit: the requests of one kind (claims, heartbeats, metric reports, results) that arrive
// while the previous statement of that kind runs go to the database together in the next one
// (TrialStore.claimMany, heartbeatMany, addMetricsMany, completeMany). A thousand busy workers then cost a few
// statements per round, not a thousand queued ones; each request still gets its own answer, and
// fencing is per row inside the statement.
//
// One item the database refuses must not fail the others: a batch whose statement fails on a value
// (a data error: isDataError) is retried in halves, down to single items, so only the item whose own
// statement fails is rejected (with GroupItemError). The store's batch statements are atomic, so a
// failed one changed nothing and running its items again is safe. Any other failure (the database
// is down, a connection dropped, a timeout) would fail every half the same way: it rejects the
// whole batch at once, one statement, not 2n − 1.

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

/**
 * Every item of a batch whose statement failed for a reason not of any one item (the database is
 * down): `message` is one short line; onBatchError was told once for the whole batch.
 */
export class GroupBatchError extends Error {
  override name = 'GroupBatchError';
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** One line saying why a statement failed: the database's own message where the driver gives it, else the error's last line. */
export function shortReason(e: unknown): string {
  const cause = driverCause(e);
  let line: string;
  if (cause && typeof cause.message === 'string') line = typeof cause.code === 'string' ? `${cause.code}: ${cause.message}` : cause.message;
  else {
    const text = e instanceof Error ? e.message : String(e);
    line = text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? (e instanceof Error ? e.name : 'error');
  }
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/**
 * SQLSTATE classes of errors caused by the values in a statement, which another batch without
 * those values may not hit: 22 data exception (out of range, bad encoding, NUL), 23 integrity
 * constraint violation (unique, foreign key, not null, check), 54 program limit exceeded (a value
 * or row too large).
 */
const DATA_ERROR_CLASSES = ['22', '23', '54'];
/**
 * What the PostgreSQL driver adapter reports some of them as, in place of the code (PGlite's
 * adapter passes the SQLSTATE itself).
 */
const DATA_ERROR_KINDS = new Set(['LengthMismatch', 'ValueOutOfRange', 'UniqueConstraintViolation', 'NullConstraintViolation', 'ForeignKeyConstraintViolation', 'InvalidInputValue']);

interface DriverCause {
  kind?: unknown;
  code?: unknown;
  originalCode?: unknown;
  message?: unknown;
}
const driverCause = (e: unknown): DriverCause | undefined => (e as { meta?: { driverAdapterError?: { cause?: DriverCause } } } | null)?.meta?.driverAdapterError?.cause;

/**
 * Whether a failed statement failed on the values it carried (so running its items apart may let
 * the others through), as opposed to the database being unreachable, closed or overloaded.
 */
export function isDataError(e: unknown): boolean {
  const cause = driverCause(e);
  if (!cause) return false;
  const sqlstate = [cause.originalCode, cause.code].find((c): c is string => typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c));
  if (sqlstate) return DATA_ERROR_CLASSES.includes(sqlstate.slice(0, 2));
  return typeof cause.kind === 'string' && DATA_ERROR_KINDS.has(cause.kind);
}

export interface GroupCommitOptions {
  /** Called once for each batch of several items whose statement failed on a data error, before its items are retried in smaller batches. */
  onBatchFailed?: (size: number, reason: string) => void;
  /** Called once for each batch rejected whole (its statement failed, not on a value), before its items are rejected with GroupBatchError. */
  onBatchError?: (size: number, reason: string) => void;
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

  /**
   * Runs a batch and answers its items; when its statement fails on a data error, its halves are
   * run on their own (one item: rejected); on any other error every item is rejected at once.
   */
  private async settle(batch: Waiting<I, O>[], first: boolean): Promise<void> {
    let out: O[];
    try {
      out = await this.run(batch.map((w) => w.item));
    } catch (e) {
      const reason = shortReason(e);
      if (!isDataError(e)) {
        this.opts.onBatchError?.(batch.length, reason);
        for (const w of batch) w.reject(new GroupBatchError(reason, { cause: e }));
        return;
      }
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
