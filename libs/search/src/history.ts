// What a sampler is told: the trials finished with their objective values, and those running.
import type { Point } from './space.ts';

/** A finished trial: its point and its objective values (minimized; NaN or Infinity for a diverged one). */
export interface Observation {
  point: Point;
  values: readonly number[];
}

export interface History {
  /** In the order they finished (the order is part of the history: same order, same suggestions). */
  finished: readonly Observation[];
  /** Points suggested and not finished yet. */
  running: readonly Point[];
  /** Points drawn before this one, kept or not (Sobol's index); absent: finished + running. */
  drawn?: number;
}
