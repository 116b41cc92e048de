// Runs after `npm install`: generate the Prisma client (TypeScript, no engine binary), then build
// the optional native kernels (libs/native; a failed build leaves training on wasm, never fails the install).
import { spawnSync } from 'node:child_process';
const r = spawnSync('npx', ['prisma', 'generate'], {
  stdio: 'inherit',
  env: { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
if (r.status !== 0) process.exit(r.status ?? 1);
spawnSync(process.execPath, ['libs/native/scripts/build.mjs'], { stdio: 'inherit' });
