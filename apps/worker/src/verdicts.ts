// The verdicts on one judged trial's validation points (issue 14). The coordinator's verdict on a
// point rides on the ack to the metric message that held it, and that ack races the training
// process's question about it: it may come first (kept until asked), while the question waits
// (answers it), or after the wait gave up and training went on (late: that step is trained past).
import type { PruneVerdict } from '@lmsweep/protocol';

/** What became of a verdict filed: it answered a wait, was kept for one to come, or came after its wait gave up. */
export type Filed = 'answered' | 'kept' | 'late';

export class VerdictBook {
  private readonly kept = new Map<number, PruneVerdict>();
  private readonly waiting = new Map<number, (v: PruneVerdict | null) => void>();
  /** The highest step asked about: the training process asks in step order, so a verdict at or below it with no wait is late. */
  private asked = -1;

  file(v: PruneVerdict): Filed {
    const answer = this.waiting.get(v.step);
    if (answer) {
      answer(v);
      return 'answered';
    }
    if (v.step <= this.asked) return 'late';
    this.kept.set(v.step, v);
    return 'kept';
  }

  /** The verdict on `step`: at once if it came already; null when none comes within `ms` or `signal` fires first. */
  wait(step: number, ms: number, signal: AbortSignal): Promise<PruneVerdict | null> {
    this.asked = Math.max(this.asked, step);
    const got = this.kept.get(step);
    if (got) {
      this.kept.delete(step);
      return Promise.resolve(got);
    }
    if (signal.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const done = (v: PruneVerdict | null) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', gone);
        this.waiting.delete(step);
        resolve(v);
      };
      const gone = () => done(null);
      const timer = setTimeout(gone, ms);
      signal.addEventListener('abort', gone, { once: true });
      this.waiting.set(step, done);
    });
  }
}
