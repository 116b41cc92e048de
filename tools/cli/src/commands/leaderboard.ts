// lmsweep leaderboard: configurations ranked (Pareto fronts on parameters × validation perplexity).
import type { inferRouterInputs } from '@trpc/server';
import type { AppRouter } from '@lmsweep/api';
import { variedKeys } from '@lmsweep/protocol/labels';
import { defineCommand } from '../command.ts';
import { renderLeaderboard, renderStoppedEarly } from '../leaderboard-table.ts';
import { apiOptions, jsonOption } from './shared.ts';

type LeaderboardInput = Exclude<inferRouterInputs<AppRouter>['leaderboard']['list'], void | undefined>;
const SORTS = ['pareto', 'validPpl', 'testPpl', 'params'] as const satisfies readonly NonNullable<LeaderboardInput['sort']>[];

export const leaderboardCommand = defineCommand({
  name: 'leaderboard',
  summary: 'configurations ranked: Pareto fronts on (parameters, validation perplexity), then perplexity',
  description:
    'Configurations over their seeds, ranked: ★ marks the Pareto front on parameters × validation perplexity; ' +
    'perplexities are means with their 95% confidence interval. The table fits 100 columns (one configuration column); --wide gives every varying config field a column. ' +
    'Below it, a pruned sweep\'s configurations stopped early (pruned or paused, no seed finished) are listed unranked with where they stopped, their rung and last value; ' +
    '--json prints them after the ranked rows, each with "stoppedEarly": true.',
  options: {
    ...apiOptions,
    sweep: { type: 'string', value: 'ID', defaultText: 'every sweep', description: "only this sweep's configurations" },
    sort: { type: 'string', choices: SORTS, default: 'pareto', description: 'rank by' },
    wide: { type: 'boolean', description: 'a column per config field that varies (wider than a terminal)' },
    json: jsonOption,
  },
  async run({ values, out }) {
    const { apiClient } = await import('../client.ts');
    const api = apiClient(values.coordinator, values.token);
    const [rows, stopped] = await Promise.all([api.leaderboard.list.query({ sweepId: values.sweep, sort: values.sort }), api.leaderboard.stopped.query({ sweepId: values.sweep, offset: 0, limit: 10_000 })]);
    if (values.json) {
      for (const r of rows) out(JSON.stringify(r));
      for (const r of stopped.entries) out(JSON.stringify({ stoppedEarly: true, ...r }));
      return 0;
    }
    // One sweep's labels name its grid keys, as the dashboard's do.
    const prefer = values.sweep ? variedKeys((await api.sweeps.get.query({ id: values.sweep })).spec) : [];
    out(renderLeaderboard(rows, { wide: values.wide, prefer }));
    const below = renderStoppedEarly(stopped.entries, { prefer, alongside: rows });
    if (below) out(`\n${below}`);
    return 0;
  },
});
