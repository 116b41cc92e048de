export * from './methods.ts';
export * from './spec.ts';
export * from './wire.ts';
export * from './storable.ts';
export * from './constants.ts';
export * from './plan.ts';
export * from './extend.ts';
