// `npm test`'s pretest: build the dashboard (next build, ≈30 s) before the test runner starts, so
// the browser test does not build it while other test files load both cores.
import { ensureDashboardBuilt, isDashboardBuildFresh } from '../../apps/dashboard/build.ts';

if (!isDashboardBuildFresh()) {
  process.stdout.write('building the dashboard for the browser test (next build)…\n');
  const started = Date.now();
  await ensureDashboardBuilt();
  process.stdout.write(`dashboard built in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}
