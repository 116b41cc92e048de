// Steps run per sweep, one at a time: a sweep poked while its step runs gets one more step after
// (however often it was poked meanwhile), so a burst of changes costs at most two steps and none
// is missed. The growth step (growth.ts) and the pruning step (pruning.ts) run this way.
export class SweepSteps {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private closed = false;

  /** `step` must not throw (log its failures). */
  constructor(private readonly step: (sweepId: string) => Promise<void>) {}

  poke(sweepId: string): void {
    if (this.closed) return;
    if (this.running.has(sweepId)) {
      this.again.add(sweepId);
      return;
    }
    const run = (async () => {
      do {
        this.again.delete(sweepId);
        await this.step(sweepId);
      } while (this.again.has(sweepId) && !this.closed);
    })().finally(() => this.running.delete(sweepId));
    this.running.set(sweepId, run);
  }

  /** Steps under way. */
  get busy(): number {
    return this.running.size;
  }

  /** Waits for the steps under way; no new ones start. */
  async close(): Promise<void> {
    this.closed = true;
    this.again.clear();
    await Promise.allSettled([...this.running.values()]);
  }
}
