// lmsweep demo (`npm start`): coordinator + local worker + dashboard + the demo sweep.
import { DEFAULT_COORDINATOR_PORT, DEFAULT_DASHBOARD_PORT } from '@lmsweep/protocol';
import { defineCommand } from '../command.ts';
import { LOG_ENVIRONMENT, logLevel, logOption } from './shared.ts';

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'coordinator (embedded database) + one local worker + dashboard + the demo sweep',
  description:
    'What `npm start` runs: a coordinator on the embedded database, one worker on the fastest backend here, the dashboard, and the sweep in ' +
    'examples/demo.yaml; prints the leaderboard when the sweep ends and keeps the dashboard up until Ctrl-C.',
  options: {
    port: { type: 'integer', value: 'P', max: 65_535, default: DEFAULT_COORDINATOR_PORT, description: "the coordinator's port" },
    'dashboard-port': { type: 'integer', value: 'P', max: 65_535, default: DEFAULT_DASHBOARD_PORT, description: "the dashboard's port" },
    spec: { type: 'string', value: 'FILE', defaultText: 'examples/demo.yaml', description: 'the sweep to run' },
    database: { type: 'string', value: 'URL', env: 'DATABASE_URL', defaultText: '.lmsweep/db (embedded PGlite)', description: 'postgres://…, a PGlite directory, or memory://' },
    'no-dashboard': { type: 'boolean', description: 'no dashboard' },
    'exit-when-done': { type: 'boolean', description: 'exit when the sweep ends instead of keeping the dashboard up' },
    log: logOption,
  },
  environment: LOG_ENVIRONMENT,
  async run({ values, out }) {
    const { runDemo } = await import('../demo.ts');
    return runDemo({
      port: values.port,
      dashboardPort: values['dashboard-port'],
      spec: values.spec,
      dashboard: !values['no-dashboard'],
      exitWhenDone: values['exit-when-done'],
      databaseUrl: values.database,
      log: values.log,
      logLevel: logLevel('warn'),
      out,
    });
  },
});
