// A search space compiled from its spec: each parameter's distribution, its condition, and maps
// between its values and the unit interval, where every sampler works (uniform draws, Sobol
// coordinates, Parzen kernels). Numeric parameters map through their (log-)scaled range;
// integers own a cell of the interval each; categorical values an equal share.
import { conditionIssues, conditionOf, type SearchSpaceSpec, type SpaceParamSpec, type SpaceValue } from '@lmsweep/protocol';

export type { SpaceValue };

/** A point: the value of every active parameter, by path; inactive parameters are absent. */
export type Point = Readonly<Record<string, SpaceValue>>;

interface ParamBase {
  name: string;
  /** Parameter → values one of which it must take, for this one to be active. */
  when?: Readonly<Record<string, readonly SpaceValue[]>>;
}

/** A float (uniform or log-uniform) or an integer (every step-th from low, or log-uniform over integers). */
export interface NumericParam extends ParamBase {
  kind: 'float' | 'int';
  low: number;
  high: number;
  /** Integers only: the spacing of values from low (1 when log). */
  step: number;
  log: boolean;
  /** The range in the scaled coordinate t (log x when log; integers' cells extend half a step each side). */
  tLow: number;
  tHigh: number;
}

export interface CategoricalParam extends ParamBase {
  kind: 'categorical';
  choices: readonly SpaceValue[];
}

export type Param = NumericParam | CategoricalParam;

export interface Space {
  /** In the order the spec lists them (a parameter's index is its Sobol dimension). */
  params: readonly Param[];
  /** Indices into params with every parameter after those its condition names. */
  order: readonly number[];
}

function compileParam(name: string, p: SpaceParamSpec): Param {
  const when = conditionOf(p);
  const base: ParamBase = when ? { name, when } : { name };
  if (Array.isArray(p)) return { ...base, kind: 'categorical', choices: p };
  if ('values' in p) return { ...base, kind: 'categorical', choices: p.values };
  if ('int' in p) {
    const [low, high] = p.int;
    const log = p.log === true;
    const step = p.step ?? 1;
    return log
      ? { ...base, kind: 'int', low, high, step: 1, log, tLow: Math.log(low - 0.5), tHigh: Math.log(high + 0.5) }
      : { ...base, kind: 'int', low, high, step, log, tLow: low - step / 2, tHigh: high + step / 2 };
  }
  const log = 'log_uniform' in p;
  const [low, high] = log ? p.log_uniform : p.uniform;
  return { ...base, kind: 'float', low, high, step: 0, log, tLow: log ? Math.log(low) : low, tHigh: log ? Math.log(high) : high };
}

/** Compiles a validated space spec (protocol's SearchSpace); throws on conditions that cannot hold or loop. */
export function compileSpace(spec: SearchSpaceSpec): Space {
  const problems = conditionIssues(spec);
  if (problems.length) throw new Error(`bad space: ${problems.map((i) => `${i.param}.when.${i.other}: ${i.message}`).join('; ')}`);
  const names = Object.keys(spec);
  const params = names.map((n) => compileParam(n, spec[n]!));
  const index = new Map(names.map((n, i) => [n, i]));
  const order: number[] = [];
  const placed = new Set<number>();
  const place = (i: number) => {
    if (placed.has(i)) return;
    placed.add(i);
    for (const other of Object.keys(params[i]!.when ?? {})) place(index.get(other)!);
    order.push(i);
  };
  for (let i = 0; i < params.length; i++) place(i);
  return { params, order };
}

/** Whether p is active given the values assigned so far (each parameter it names is active and takes one of the values). */
export function isActive(p: Param, assigned: Readonly<Record<string, SpaceValue>>): boolean {
  if (!p.when) return true;
  for (const [other, values] of Object.entries(p.when)) {
    if (!Object.hasOwn(assigned, other)) return false;
    if (!values.includes(assigned[other]!)) return false;
  }
  return true;
}

/** The number of values of a discrete parameter (categorical or non-log integer); 0 for the others. */
export function cellCount(p: Param): number {
  if (p.kind === 'categorical') return p.choices.length;
  if (p.kind === 'int' && !p.log) return Math.round((p.high - p.low) / p.step) + 1;
  return 0;
}

/** The value at unit coordinate u ∈ [0, 1] (u = 1 gives the last value). */
export function fromUnit(p: Param, u: number): SpaceValue {
  const v = Math.min(1, Math.max(0, u));
  if (p.kind === 'categorical') return p.choices[Math.min(p.choices.length - 1, Math.floor(v * p.choices.length))]!;
  const t = p.tLow + v * (p.tHigh - p.tLow);
  if (p.kind === 'float') return Math.min(p.high, Math.max(p.low, p.log ? Math.exp(t) : t));
  if (p.log) return Math.min(p.high, Math.max(p.low, Math.round(Math.exp(t))));
  const i = Math.min(cellCount(p) - 1, Math.floor(v * cellCount(p)));
  return p.low + i * p.step;
}

/** A numeric value's unit coordinate (an integer's: the centre of its cell). */
export function toUnit(p: NumericParam, x: number): number {
  const t = p.log ? Math.log(x) : x;
  return (t - p.tLow) / (p.tHigh - p.tLow);
}

/** An integer's cell [a, b] in unit coordinates: the values fromUnit maps to it. */
export function unitCell(p: NumericParam, x: number): [number, number] {
  const w = p.tHigh - p.tLow;
  if (p.log) return [(Math.log(Math.max(p.low - 0.5, x - 0.5)) - p.tLow) / w, (Math.log(Math.min(p.high + 0.5, x + 0.5)) - p.tLow) / w];
  return [(x - p.step / 2 - p.tLow) / w, (x + p.step / 2 - p.tLow) / w];
}

/** The index of a categorical value among the choices (−1 when it is not one). */
export function choiceIndex(p: CategoricalParam, v: SpaceValue): number {
  return p.choices.indexOf(v);
}

/** Sets an own property (a parameter's path is data: never an assignment that could reach a prototype). */
function define(o: Record<string, SpaceValue>, k: string, v: SpaceValue): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/**
 * A point drawn coordinate by coordinate: `unit(i)` gives parameter i's unit coordinate, asked
 * only for the parameters that are active (in dependency order).
 */
export function pointFromUnits(space: Space, unit: (i: number) => number): Point {
  const out: Record<string, SpaceValue> = {};
  for (const i of space.order) {
    const p = space.params[i]!;
    if (isActive(p, out)) define(out, p.name, fromUnit(p, unit(i)));
  }
  return Object.freeze(out);
}

/** Why a point is not one the space can give (a missing, extra or out-of-range value), or null. */
export function pointIssue(space: Space, point: Point): string | null {
  const seen: Record<string, SpaceValue> = {};
  for (const i of space.order) {
    const p = space.params[i]!;
    const has = Object.hasOwn(point, p.name);
    const active = isActive(p, seen);
    if (active !== has) return active ? `${p.name} is missing` : `${p.name} is set though its condition is false`;
    if (!has) continue;
    const v = point[p.name]!;
    if (p.kind === 'categorical') {
      if (!p.choices.includes(v)) return `${p.name}: ${JSON.stringify(v)} is not a choice`;
    } else if (typeof v !== 'number' || v < p.low || v > p.high || (p.kind === 'int' && (!Number.isInteger(v) || (v - p.low) % p.step !== 0))) {
      return `${p.name}: ${JSON.stringify(v)} is out of its range`;
    }
    define(seen, p.name, v);
  }
  const extra = Object.keys(point).find((k) => !space.params.some((p) => p.name === k));
  return extra === undefined ? null : `${extra} is not a parameter`;
}
