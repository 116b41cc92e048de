// The lint config enforces the module boundaries (README, Layout) on the real project graph: a
// forbidden import in a source file is an error, a test file may cross them, the dashboard may
// import the API's types only. (`npm run lint` checks the tree itself; this checks the rules bite.)
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: ROOT });

// The boundaries rule reads the project graph Nx caches in .nx/; a fresh clone has none until Nx
// runs once (`npm run lint` does), so compute it first.
beforeAll(() => {
  execFileSync(path.join(ROOT, 'node_modules/.bin/nx'), ['show', 'projects'], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, NX_DAEMON: 'false' } });
}, 120_000);

async function errors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result!.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint: module boundaries', () => {
  it('a library may not import a layer above it, nor another project by a relative path', async () => {
    expect(await errors('libs/protocol/src/x.ts', "import { selectBackend } from '@lmsweep/nn';\nexport const f = selectBackend;\n")).toEqual([expect.stringMatching(/^@nx\/enforce-module-boundaries: .*layer:protocol/)]);
    expect(await errors('libs/sweep/src/x.ts', "import { TrialStore } from '@lmsweep/db';\nexport const f = TrialStore;\n")).toEqual([expect.stringMatching(/^@nx\/enforce-module-boundaries: .*layer:sweep/)]);
    expect(await errors('libs/db/src/x.ts', "import { parseSweepSpec } from '../../sweep/src/expand.ts';\nexport const f = parseSweepSpec;\n")).toEqual([expect.stringMatching(/^@nx\/enforce-module-boundaries: .*relative/)]);
    // The store persists plans (protocol's TrialPlan) without knowing how a sweep plans them.
    expect(await errors('libs/db/src/x.ts', "import { expandSweep } from '@lmsweep/sweep';\nexport const f = expandSweep;\n")).toEqual([expect.stringMatching(/^@nx\/enforce-module-boundaries: .*layer:db/)]);
  });

  it('allowed imports pass; an app may not import another app; nothing imports the CLI', async () => {
    expect(await errors('libs/db/src/x.ts', "import type { TrialPlan } from '@lmsweep/protocol';\nexport type P = TrialPlan;\n")).toEqual([]);
    expect(await errors('libs/api/src/x.ts', "import { parseSweepSpec } from '@lmsweep/sweep';\nexport const f = parseSweepSpec;\n")).toEqual([]);
    expect(await errors('apps/worker/src/x.ts', "import { startCoordinator } from '@lmsweep/coordinator';\nexport const f = startCoordinator;\n")).toEqual([expect.stringMatching(/^@nx\/enforce-module-boundaries: .*layer:worker/)]);
    expect(await errors('tools/cli/src/x.ts', "import { startWorker } from '@lmsweep/worker';\nexport const f = startWorker;\n")).toEqual([]);
    expect(await errors('apps/coordinator/src/x.ts', "import { x } from 'lmsweep/src/format.ts';\nexport const f = x;\n")).toEqual([expect.stringMatching(/^@nx\/enforce-module-boundaries/)]);
  });

  it('tests may cross boundaries (they start real servers of other apps)', async () => {
    expect(await errors('apps/worker/test/x.int.test.ts', "import { startCoordinator } from '../../coordinator/src/server.ts';\nexport const f = startCoordinator;\n")).toEqual([]);
  });

  it('the dashboard imports the API types, never its code', async () => {
    expect(await errors('apps/dashboard/src/x.ts', "import type { AppRouter } from '@lmsweep/api';\nexport type R = AppRouter;\n")).toEqual([]);
    expect(await errors('apps/dashboard/src/x.ts', "import { appRouter } from '@lmsweep/api';\nexport const r = appRouter;\n")).toEqual([expect.stringMatching(/^@typescript-eslint\/no-restricted-imports: .*API types/)]);
  });

  it("the dashboard takes the protocol's browser-safe entries only (no zod in its bundle)", async () => {
    for (const entry of ['methods', 'labels', 'limits']) expect(await errors('apps/dashboard/src/x.ts', `import * as m from '@lmsweep/protocol/${entry}';\nexport const x = m;\n`), entry).toEqual([]);
    for (const entry of ['@lmsweep/protocol', '@lmsweep/protocol/spec', '@lmsweep/protocol/limits/x']) {
      expect(await errors('apps/dashboard/src/x.tsx', `import { MAX_API_BATCH } from '${entry}';\nexport const x = MAX_API_BATCH;\n`), entry).toEqual([expect.stringMatching(/^@typescript-eslint\/no-restricted-imports: .*browser-safe/)]);
    }
    expect(await errors('apps/dashboard/src/x.ts', "import type { SweepSpec } from '@lmsweep/protocol';\nexport type S = SweepSpec;\n")).toEqual([]);
  });

  it('libraries do not print', async () => {
    expect(await errors('libs/algorithms/src/x.ts', "export function f() {\n  console.log('x');\n}\n")).toEqual([expect.stringMatching(/^no-console/)]);
  });
});
