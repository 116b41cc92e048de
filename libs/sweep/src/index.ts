export * from './expand.ts';
export * from './paths.ts';
export * from './prepare.ts';
export * from './sampled-spec.ts';
