// Benchmarks run by `lmsweep bench NAME`: each prints a table (or JSON lines) with its
// reference run side by side. Later issues register theirs here.

export interface BenchContext {
  json: boolean;
  out: (line: string) => void;
}

export const benchmarks: Record<string, (ctx: BenchContext) => Promise<void>> = {};
