// Benchmarks run by `lmsweep bench NAME`: each prints a table (or JSON lines) with its
// reference run side by side. Declarations (options, help) in bench/options.ts; the code of a
// benchmark is loaded only to run it.
import { type BenchDeclaration, COMPRESS_BENCH, DASHBOARD_BENCH, LOAD_BENCH, PHM_BENCH, PRUNE_BENCH, PRUNE_LATENCY_BENCH, SEARCH_BENCH, TRAIN_BENCH } from './bench/options.ts';

export interface BenchContext {
  json: boolean;
  out: (line: string) => void;
  /** Arguments after the benchmark's name (its own flags, declared in bench/options.ts). */
  args: string[];
}

export interface Benchmark {
  declaration: BenchDeclaration;
  load(): Promise<(ctx: BenchContext) => Promise<void>>;
}

export const benchmarks: readonly Benchmark[] = [
  { declaration: COMPRESS_BENCH, load: async () => (await import('./bench/compress.ts')).benchCompress },
  { declaration: DASHBOARD_BENCH, load: async () => (await import('./bench/dashboard.ts')).benchDashboard },
  { declaration: LOAD_BENCH, load: async () => (await import('./bench/load.ts')).benchLoad },
  { declaration: PHM_BENCH, load: async () => (await import('./bench/phm.ts')).benchPhm },
  { declaration: PRUNE_BENCH, load: async () => (await import('./bench/prune.ts')).benchPrune },
  { declaration: PRUNE_LATENCY_BENCH, load: async () => (await import('./bench/prune-latency.ts')).benchPruneLatency },
  { declaration: SEARCH_BENCH, load: async () => (await import('./bench/search.ts')).benchSearch },
  { declaration: TRAIN_BENCH, load: async () => (await import('./bench/train.ts')).benchTrain },
];
