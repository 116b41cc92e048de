export * from './expand.ts';
export * from './paths.ts';
