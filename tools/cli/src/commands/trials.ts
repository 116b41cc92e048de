// lmsweep trials: trials with their config fields, status and results; JSON lines or CSV for scripts.
import type { inferRouterInputs } from '@trpc/server';
import type { AppRouter } from '@lmsweep/api';
import { METHODS, methodLabel } from '@lmsweep/protocol';
import { defineCommand } from '../command.ts';
import { csv, fieldCell, flatten, fmtNum, fmtParams, table, varyingFields } from '../format.ts';
import { UsageError } from '../options.ts';
import { safeText } from '../terminal-text.ts';
import { apiOptions, jsonOption } from './shared.ts';

type TrialsInput = Exclude<inferRouterInputs<AppRouter>['trials']['list'], void | undefined>;
// The API's own lists (type-checked against its input), so a bad flag is refused before any request.
const STATUSES = ['queued', 'running', 'paused', 'succeeded', 'pruned', 'failed', 'cancelled'] as const satisfies readonly Extract<NonNullable<TrialsInput['status']>, string>[];
const SORTS = ['ordinal', 'createdAt', 'validPpl', 'testPpl', 'params', 'finishedAt'] as const satisfies readonly NonNullable<TrialsInput['sort']>[];

/** "pruned at step 300 (rung 1)", "paused at step 200 (rung 0, resumed 1×)"; other statuses as they are. */
export function statusCell(t: { status: string; steps: number | null; rung: number | null; promotions: number }): string {
  if ((t.status !== 'pruned' && t.status !== 'paused') || t.steps === null) return t.status;
  const notes = [...(t.rung === null ? [] : [`rung ${t.rung}`]), ...(t.promotions ? [`resumed ${t.promotions}×`] : [])];
  return `${t.status} at step ${t.steps}${notes.length ? ` (${notes.join(', ')})` : ''}`;
}

export const trialsCommand = defineCommand({
  name: 'trials',
  summary: 'list trials: status, config fields that vary, seed, attempt, parameters, perplexity',
  options: {
    ...apiOptions,
    sweep: { type: 'string', value: 'ID', description: "only this sweep's trials" },
    status: { type: 'string', choices: STATUSES, description: 'only trials in this state (paused: waiting at a rung to resume; pruned: stopped early by the pruner)' },
    method: { type: 'string', choices: METHODS, description: 'only trials of this method' },
    sort: { type: 'string', choices: SORTS, default: 'ordinal', description: 'order by' },
    order: { type: 'string', choices: ['asc', 'desc'], default: 'asc', description: 'ascending or descending' },
    limit: { type: 'integer', value: 'N', min: 1, max: 10_000, default: 1000, description: 'at most this many' },
    json: { ...jsonOption, description: 'one object per line: id, sweepId, status, method, config, seed, attempt, params, validPpl, testPpl, seconds, steps (trained so far), rung, promotions (times resumed), verdict (why it paused or was pruned), error, flag' },
    csv: { type: 'boolean', description: 'CSV with a column per varying config field' },
  },
  async run({ values, out }) {
    if (values.json && values.csv) throw new UsageError('--json and --csv exclude each other');
    const { apiClient } = await import('../client.ts');
    const { items } = await apiClient(values.coordinator, values.token).trials.list.query({
      sweepId: values.sweep,
      status: values.status,
      method: values.method,
      sort: values.sort,
      order: values.order,
      limit: values.limit,
      offset: 0,
    });
    const lines = items.map((t) => ({
      id: t.id,
      sweepId: t.sweepId,
      status: t.status,
      method: t.method,
      config: t.config,
      seed: t.seed,
      attempt: t.attempt,
      params: t.params,
      validPpl: t.validPpl,
      testPpl: t.testPpl,
      seconds: t.seconds,
      steps: t.steps,
      rung: t.rung,
      promotions: t.promotions,
      verdict: t.verdict,
      error: t.error,
      flag: t.flag,
    }));
    if (values.json) {
      for (const l of lines) out(JSON.stringify(l));
      return 0;
    }
    const keys = varyingFields(lines.map((l) => l.config));
    if (values.csv) {
      out(csv(['id', 'sweepId', 'status', 'method', 'seed', 'attempt', 'params', 'validPpl', 'testPpl', 'seconds', 'steps', 'rung', 'promotions', ...keys, 'config', 'error', 'flag'], lines.map((l) => [l.id, l.sweepId, l.status, l.method, l.seed, l.attempt, l.params, l.validPpl, l.testPpl, l.seconds, l.steps, l.rung, l.promotions, ...keys.map((k) => flatten(l.config)[k]), l.config, l.error, l.flag])));
      return 0;
    }
    // Methods as people read them ("dense + fine-tune"); --json and --csv keep the names a script filters by.
    // A pruned trial is a result at the step it stopped; a paused one waits there to resume.
    out(table(['id', 'status', 'method', ...keys, 'seed', 'try', 'params', 'valid ppl', 'test ppl'], lines.map((l) => [l.id, statusCell(l), methodLabel(l.method), ...keys.map((k) => fieldCell(l.config, k)), l.seed, l.attempt, fmtParams(l.params), fmtNum(l.validPpl), fmtNum(l.testPpl)])));
    // Why each was stopped or paused (the verdict's reason), one line each.
    const stopped = lines.filter((l) => (l.status === 'pruned' || l.status === 'paused') && typeof (l.verdict as { reason?: unknown } | null)?.reason === 'string');
    if (stopped.length) out(`\nstopped early:\n${stopped.map((l) => `${l.id}  ${safeText((l.verdict as { reason: string }).reason)}`).join('\n')}`);
    const failed = lines.filter((l) => l.error);
    // Errors one line each (a newline in one cannot pass for another row).
    if (failed.length) out(`\nerrors:\n${failed.map((l) => `${l.id}  ${safeText(String(l.error))}`).join('\n')}`);
    // Results stored but left out of the leaderboard's means (far below every other seed).
    const flagged = lines.filter((l) => l.flag);
    if (flagged.length) out(`\nflagged:\n${flagged.map((l) => `${l.id}  ${safeText(String(l.flag))}`).join('\n')}`);
    return 0;
  },
});
