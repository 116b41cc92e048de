export * from './stats.ts';
export * from './pareto.ts';
export * from './testing.ts';
