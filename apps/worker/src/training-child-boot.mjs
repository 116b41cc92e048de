// Entry of a worker's training process (training-process.ts forks it): loads TypeScript the way
// the CLI does (tsx), then the process's body. Plain JavaScript: a new process starts without a TS loader.
import { register } from 'tsx/esm/api';

register();
await import('./training-child.ts');
