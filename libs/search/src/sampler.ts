// The samplers of a sampled sweep behind one call: the next point for a space and a history,
// from a seeded generator. Pure: no I/O, no clock, no global randomness.
import type { SamplerName } from '@lmsweep/protocol';
import type { History } from './history.ts';
import type { Rng } from './rng.ts';
import { hashInts } from './rng.ts';
import { Sobol } from './sobol.ts';
import { pointFromUnits, type Point, type Space } from './space.ts';
import { suggestTpe, TPE_DEFAULTS, type TpeSettings } from './tpe.ts';

export interface SamplerSettings {
  sampler: SamplerName;
  /** The search's seed: Sobol's scramble comes from it (the generator passed to suggest draws the rest). */
  seed: number;
  tpe?: Partial<TpeSettings>;
}

/** A stream id for the Sobol scramble, apart from any suggestion's generator. */
const SOBOL_STREAM = 0x50b01;

/**
 * The next point. random: every active parameter uniform on its (log) scale; sobol: point number
 * `drawn` (default finished + running) of the scrambled sequence (one dimension per parameter, categorical ones
 * by equal shares); tpe and motpe: suggestTpe (finished values are one or two objectives).
 */
export function suggest(space: Space, settings: SamplerSettings, history: History, rng: Rng): Point {
  switch (settings.sampler) {
    case 'random':
      return pointFromUnits(space, () => rng.next());
    case 'sobol': {
      const u = new Sobol(space.params.length, hashInts(settings.seed, SOBOL_STREAM)).point(history.drawn ?? history.finished.length + history.running.length);
      return pointFromUnits(space, (i) => u[i]!);
    }
    case 'tpe':
    case 'motpe':
      return suggestTpe(space, history, rng, { ...TPE_DEFAULTS, ...settings.tpe });
  }
}

/** `count` points at once: each suggested with the ones before it counted as running. */
export function suggestMany(space: Space, settings: SamplerSettings, history: History, count: number, rng: Rng): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < count; i++) out.push(suggest(space, settings, { finished: history.finished, running: [...history.running, ...out] }, rng));
  return out;
}
