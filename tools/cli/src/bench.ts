// Benchmarks run by `lmsweep bench NAME`: each prints a table (or JSON lines) with its
// reference run side by side.
import { benchCompress } from './bench/compress.ts';
import { benchLoad } from './bench/load.ts';
import { benchPhm } from './bench/phm.ts';
import { benchTrain } from './bench/train.ts';

export interface BenchContext {
  json: boolean;
  out: (line: string) => void;
  /** Arguments after the benchmark's name (its own flags). */
  args: string[];
}

export const benchmarks: Record<string, (ctx: BenchContext) => Promise<void>> = {
  compress: benchCompress,
  load: benchLoad,
  phm: benchPhm,
  train: benchTrain,
};
