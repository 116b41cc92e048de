export * from './config.ts';
export * from './expand.ts';
export * from './feasibility.ts';
export * from './paths.ts';
export * from './plan.ts';
export * from './prepare.ts';
export * from './grow.ts';
export * from './extend.ts';
