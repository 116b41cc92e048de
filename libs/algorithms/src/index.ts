export * from './stats.ts';
export * from './pareto.ts';
export * from './testing.ts';
export * from './kronecker.ts';
export * from './svd.ts';
export * from './low-rank.ts';
export * from './rank-budget.ts';
export * from './npy.ts';
