// Test functions for samplers, with known optima: Branin and Hartmann-6 (Dixon & Szegő 1978),
// a mixed space with categorical and conditional parameters, and ZDT1 (Zitzler, Deb & Thiele
// 2000) for two objectives. What the tests and `lmsweep bench search` measure samplers on.
import type { SearchSpaceSpec } from '@lmsweep/protocol';
import type { Pair } from './hypervolume.ts';
import type { Point } from './space.ts';

export interface Problem {
  name: string;
  space: SearchSpaceSpec;
  /** The objective values of a point (one, or two for a multi-objective problem), minimized. */
  evaluate(point: Point): number[];
  /** Single objective: the least value. */
  optimum?: number;
  /** Two objectives: the reference point of the hypervolume. */
  reference?: Pair;
}

const num = (p: Point, k: string) => p[k] as number;

export const BRANIN: Problem = {
  name: 'branin',
  space: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } },
  evaluate(p) {
    const x1 = num(p, 'x1');
    const x2 = num(p, 'x2');
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return [(x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10];
  },
  optimum: 0.39788735772973816,
};

const H_ALPHA = [1, 1.2, 3, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

export const HARTMANN6: Problem = {
  name: 'hartmann6',
  space: Object.fromEntries(Array.from({ length: 6 }, (_, j) => [`x${j + 1}`, { uniform: [0, 1] as [number, number] }])),
  evaluate(p) {
    let f = 0;
    for (let i = 0; i < 4; i++) {
      let s = 0;
      for (let j = 0; j < 6; j++) s += H_A[i]![j]! * (num(p, `x${j + 1}`) - H_P[i]![j]!) ** 2;
      f -= H_ALPHA[i]! * Math.exp(-s);
    }
    return [f];
  },
  optimum: -3.322368011415515,
};

const COLOR_COST: Record<string, number> = { red: 0, green: 0.25, blue: 0.5, black: 0.75 };

/**
 * Mixed and conditional: `kind` picks a branch with parameters of its own (a: a float; b: a
 * log-uniform float and an integer with a step; c: a log-scaled integer), beside a categorical
 * and a float every point has. Branch minima 0.6 (a), 0 (b), 0.3 (c): the optimum 0 is
 * kind b, y 0.1, z 8, colour red, u 0.3.
 */
export const MIXED: Problem = {
  name: 'mixed',
  space: {
    kind: ['a', 'b', 'c'],
    x: { uniform: [-5, 5], when: { kind: 'a' } },
    y: { log_uniform: [0.001, 10], when: { kind: 'b' } },
    z: { int: [0, 20], step: 2, when: { kind: 'b' } },
    n: { int: [1, 64], log: true, when: { kind: 'c' } },
    color: ['red', 'green', 'blue', 'black'],
    u: { uniform: [0, 1] },
  },
  evaluate(p) {
    let f: number;
    if (p['kind'] === 'a') f = 0.6 + 0.1 * (num(p, 'x') - 1.5) ** 2;
    else if (p['kind'] === 'b') f = 0.5 * (Math.log10(num(p, 'y')) + 1) ** 2 + ((num(p, 'z') - 8) / 10) ** 2;
    else f = 0.3 + 0.1 * (Math.log2(num(p, 'n')) - 3) ** 2;
    return [f + COLOR_COST[p['color'] as string]! + (num(p, 'u') - 0.3) ** 2];
  },
  optimum: 0,
};

/**
 * ZDT1 with 6 variables: f1 = x1, f2 = g·(1 − √(x1/g)), g = 1 + 9·mean(x2..x6); the front is
 * f2 = 1 − √f1 at g = 1. Hypervolume against (1.1, 11): past the worst value either objective
 * can take (f1 ≤ 1, f2 ≤ g ≤ 10) by 10%, so every point found counts; the front's is 12.1 − 1/3.
 */
export const ZDT1: Problem = {
  name: 'zdt1',
  space: Object.fromEntries(Array.from({ length: 6 }, (_, j) => [`x${j + 1}`, { uniform: [0, 1] as [number, number] }])),
  evaluate(p) {
    const x = Array.from({ length: 6 }, (_, j) => num(p, `x${j + 1}`));
    const g = 1 + (9 * x.slice(1).reduce((a, b) => a + b, 0)) / 5;
    return [x[0]!, g * (1 - Math.sqrt(x[0]! / g))];
  },
  reference: [1.1, 11],
};

export const PROBLEMS: readonly Problem[] = [BRANIN, HARTMANN6, MIXED, ZDT1];
