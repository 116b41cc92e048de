export * from './backend.ts';
export * from './corpus.ts';
export * from './random.ts';
export * from './ops.ts';
export * from './lstm-lm.ts';
export * from './train.ts';
export * from './phm.ts';
export * from './low-rank-dense.ts';
