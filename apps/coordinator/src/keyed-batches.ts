// Batches per key, one at a time: the items submitted for a key while its batch runs go together
// in the next one (at most `max` to a batch), each with its own answer. The prune decisions of a
// sweep run this way (pruning.ts): under load a decision costs one transaction however many
// reports wait, and no report waits behind more than one decision of its sweep.
interface Waiting<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class KeyedBatches<I, O> {
  private readonly waiting = new Map<string, Waiting<I, O>[]>();
  private readonly running = new Set<string>();

  /** `run` answers its items in order (one output each); a throw rejects the whole batch. */
  constructor(
    private readonly run: (key: string, items: I[]) => Promise<O[]>,
    private readonly max = 256,
  ) {}

  submit(key: string, item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const queue = this.waiting.get(key) ?? [];
      queue.push({ item, resolve, reject });
      this.waiting.set(key, queue);
      if (!this.running.has(key)) void this.drain(key);
    });
  }

  /** Keys with a batch under way. */
  get busy(): number {
    return this.running.size;
  }

  private async drain(key: string): Promise<void> {
    this.running.add(key);
    try {
      for (;;) {
        const queue = this.waiting.get(key);
        if (!queue?.length) break;
        const batch = queue.splice(0, this.max);
        if (!queue.length) this.waiting.delete(key);
        try {
          const outs = await this.run(key, batch.map((w) => w.item));
          if (outs.length !== batch.length) throw new Error(`a batch of ${batch.length} got ${outs.length} answers`);
          batch.forEach((w, i) => w.resolve(outs[i]!));
        } catch (e) {
          for (const w of batch) w.reject(e);
        }
      }
    } finally {
      this.running.delete(key);
    }
  }
}
