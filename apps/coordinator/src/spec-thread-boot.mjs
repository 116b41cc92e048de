// Entry of a spec-checking thread (spec-pool.ts): loads TypeScript the way the CLI does (tsx),
// then the thread's body. Plain JavaScript, because a new thread starts without a TS loader.
import { register } from 'tsx/esm/api';

register();
await import('./spec-thread.ts');
