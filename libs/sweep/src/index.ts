export * from './expand.ts';
