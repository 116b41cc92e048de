// Which of the coordinator's tRPC procedures read and which write, by name, checked against the
// API's router type: the dashboard's proxy lets anyone read, and forwards a write only for a
// signed-in session. A procedure added to the API fails the dashboard's typecheck until it is
// listed here; a name that is not listed (another version of the API) counts as a write.
import type { AppRouter } from '@lmsweep/api';

type Entries<R, P extends string = ''> = {
  [K in keyof R & string]: R[K] extends { _def: { procedure: true; type: infer T } } ? [`${P}${K}`, T] : Entries<R[K], `${P}${K}.`>;
}[keyof R & string];
type All = Entries<AppRouter['_def']['record']>;
export type ProcedurePath = All[0];
export type ProcedureKind = 'query' | 'mutation' | 'subscription';

export const PROCEDURE_KINDS: { readonly [P in ProcedurePath]: Extract<All, [P, unknown]>[1] } = {
  health: 'query',
  'sweeps.create': 'mutation',
  'sweeps.validate': 'query',
  'sweeps.list': 'query',
  'sweeps.get': 'query',
  'sweeps.search': 'query',
  'sweeps.analysis': 'query',
  'sweeps.compare': 'query',
  'sweeps.cancel': 'mutation',
  'sweeps.setNote': 'mutation',
  'sweeps.extend': 'mutation',
  'trials.list': 'query',
  'trials.get': 'query',
  'trials.setNote': 'mutation',
  'leaderboard.list': 'query',
  'leaderboard.page': 'query',
  'leaderboard.stopped': 'query',
  'workers.list': 'query',
  'slurm.list': 'query',
  'slurm.record': 'mutation',
  'slurm.cancelled': 'mutation',
  'live.changes': 'subscription',
};

/** A procedure's kind; 'mutation' for a name the API type does not have. */
export function kindOf(name: string): ProcedureKind {
  return Object.hasOwn(PROCEDURE_KINDS, name) ? PROCEDURE_KINDS[name as ProcedurePath] : 'mutation';
}

/**
 * The procedures a tRPC request calls: `/trpc/a.b` or a batch `/trpc/a.b,c.d`. Null for a path
 * that is not a call (nothing after /trpc/, an empty name, undecodable).
 */
export function procedureCalls(pathname: string): string[] | null {
  const m = /^\/trpc\/([^/]+)$/.exec(pathname);
  if (!m) return null;
  let names: string[];
  try {
    names = decodeURIComponent(m[1]!).split(',');
  } catch {
    return null;
  }
  return names.length && names.every((n) => n.length > 0) ? names : null;
}

/** Whether a request to `pathname` would change anything: it calls a mutation (or an unknown procedure, or no well-formed one). */
export function writes(pathname: string): boolean {
  const calls = procedureCalls(pathname);
  return calls === null || calls.some((n) => kindOf(n) !== 'query' && kindOf(n) !== 'subscription');
}
