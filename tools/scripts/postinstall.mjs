// Runs after `npm install`: generate the Prisma client (TypeScript, no engine binary).
import { spawnSync } from 'node:child_process';
const r = spawnSync('npx', ['prisma', 'generate'], {
  stdio: 'inherit',
  env: { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
process.exit(r.status ?? 1);
