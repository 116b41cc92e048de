// The terminal leaderboard (`lmsweep leaderboard`, the end of `npm start`): one configuration
// column (@lmsweep/protocol/labels, the dashboard's labels too), then parameters, compression, perplexity ± the 95% interval and
// the number of seeds, in at most 100 columns. --wide: a column per varying config field. An
// interval wider than its sweep's target (seeds.ciHalfWidth) is marked `~`, with a footnote.
// Below it, configurations stopped early (a pruned sweep's: no seed finished) are a table of their
// own: where they stopped, their rung and last value, unranked.
import { fieldCell, fmtNum, fmtParams, table, varyingFields } from './format.ts';
import { methodLabel } from '@lmsweep/protocol';
import { configLabels } from '@lmsweep/protocol/labels';

export interface LeaderboardTableRow {
  method: string;
  config?: unknown;
  params: number;
  compression: number | null;
  validPpl: { mean: number; halfWidth: number | null };
  testPpl: { mean: number; halfWidth: number | null };
  seeds: number[];
  paretoRank: number;
  isBaseline: boolean;
  /** The sweep's target half-width (seeds until the interval is tight), null without one. */
  ciTarget?: number | null;
  /** Whether the validation interval meets it. */
  ciTight?: boolean;
}

export const LEADERBOARD_WIDTH = 100;

/** A number in at most 9 columns: one decimal below 100,000, else 1.23e+5. */
function compactNum(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return Math.abs(v) < 1e5 ? v.toFixed(1) : v.toExponential(2);
}

const pm = (i: { mean: number; halfWidth: number | null }) => `${compactNum(i.mean)} ± ${i.halfWidth === null ? '?' : compactNum(i.halfWidth)}`;
/** An interval that misses its sweep's target is marked. */
const wide = (r: LeaderboardTableRow) => r.ciTarget !== undefined && r.ciTarget !== null && r.ciTight === false;
const WIDE_MARK = '~';
/** The footnote under a table with marked rows. */
function wideNote(rows: readonly LeaderboardTableRow[]): string {
  const marked = rows.filter(wide);
  if (!marked.length) return '';
  const targets = [...new Set(marked.map((r) => r.ciTarget))];
  return `\n${WIDE_MARK} ${marked.length} interval${marked.length > 1 ? 's are' : ' is'} wider than the sweep's target (±${targets.join(', ±')}): more seeds would narrow ${marked.length > 1 ? 'them' : 'it'}`;
}
const ratio = (c: number | null) => (c === null || !Number.isFinite(c) ? '-' : c < 1000 ? `${c.toFixed(2)}×` : `${c.toExponential(1)}×`);

export interface LeaderboardTableOptions {
  /** A column per varying config field instead of one configuration column. */
  wide?: boolean;
  /** Columns the compact table fits (default 100). */
  width?: number;
  /** Config fields the labels name wherever set: the sweep's grid keys, as the dashboard names them. */
  prefer?: readonly string[];
}

/** The compact table: every line at most `width` columns (labels cut with … to fit). */
export function renderLeaderboard(rows: readonly LeaderboardTableRow[], opts: LeaderboardTableOptions = {}): string {
  if (opts.wide) return renderLeaderboardWide(rows);
  const width = opts.width ?? LEADERBOARD_WIDTH;
  const headers = ['', 'configuration', 'params', 'ratio', 'valid ppl ±95%', 'test ppl ±95%', 'n'];
  const labels = configLabels(rows, { prefer: opts.prefer });
  const cells = rows.map((r, i) => [r.paretoRank === 0 ? '★' : '', labels[i]!, fmtParams(r.params), ratio(r.compression), pm(r.validPpl) + (wide(r) ? WIDE_MARK : ''), pm(r.testPpl), String(r.seeds.length)]);
  // The label gets what the number columns leave (two spaces between columns).
  const numberWidths = [0, 2, 3, 4, 5, 6].map((c) => Math.max(headers[c]!.length, ...cells.map((r) => [...r[c]!].length)));
  const labelWidth = Math.max(headers[1]!.length, width - numberWidths.reduce((a, b) => a + b, 0) - 2 * (headers.length - 1));
  return table(headers, cells, { align: ['left', 'left', 'right', 'right', 'right', 'right', 'right'], maxWidth: [undefined, labelWidth] }) + wideNote(rows);
}

/** Every config field that varies as a column of its own (wide: ~300 columns for the demo). */
export function renderLeaderboardWide(rows: readonly LeaderboardTableRow[]): string {
  const keys = varyingFields(rows.map((r) => r.config));
  const pmWide = (i: { mean: number; halfWidth: number | null }) => `${fmtNum(i.mean)} ± ${i.halfWidth === null ? '?' : fmtNum(i.halfWidth)}`;
  return (
    table(
      ['', 'method', ...keys, 'params', 'ratio', 'valid ppl (95% CI)', 'test ppl (95% CI)', 'seeds'],
      rows.map((r) => [r.paretoRank === 0 ? '★' : '', methodLabel(r.method) + (r.isBaseline ? ' (baseline)' : ''), ...keys.map((k) => fieldCell(r.config, k)), fmtParams(r.params), r.compression === null ? '-' : `${r.compression.toFixed(2)}×`, pmWide(r.validPpl) + (wide(r) ? WIDE_MARK : ''), pmWide(r.testPpl), r.seeds.length]),
    ) + wideNote(rows)
  );
}

/** A configuration stopped early, as `leaderboard.stopped` gives it. */
export interface StoppedTableRow {
  method: string;
  config?: unknown;
  status: 'pruned' | 'paused';
  steps: number | null;
  rung: number | null;
  validPpl: number | null;
  seeds: number[];
  isBaseline?: boolean;
}

/** "stopped at step 300", "paused at step 600" (it may yet resume). */
export function stoppedAt(r: Pick<StoppedTableRow, 'status' | 'steps'>): string {
  const where = r.steps === null ? '' : ` at step ${r.steps}`;
  return r.status === 'paused' ? `paused${where}` : `stopped${where}`;
}

/**
 * The "stopped early" table under the ranking: configuration, where it stopped, rung, last
 * validation perplexity there (over the seeds that got that far), seeds; within `width` columns. Labels are made
 * with the ranked rows (`alongside`), so both tables name the same fields. Empty when none.
 */
export function renderStoppedEarly(rows: readonly StoppedTableRow[], opts: LeaderboardTableOptions & { alongside?: readonly LeaderboardTableRow[] } = {}): string {
  if (!rows.length) return '';
  const width = opts.width ?? LEADERBOARD_WIDTH;
  const context = opts.alongside ?? [];
  const labels = configLabels([...context, ...rows.map((r) => ({ ...r, isBaseline: r.isBaseline ?? false }))], { prefer: opts.prefer }).slice(context.length);
  const headers = ['configuration', 'stopped', 'rung', 'last valid ppl', 'n'];
  const cells = rows.map((r, i) => [labels[i]!, stoppedAt(r), r.rung === null ? '-' : String(r.rung), compactNum(r.validPpl), String(r.seeds.length)]);
  const numberWidths = [1, 2, 3, 4].map((c) => Math.max(headers[c]!.length, ...cells.map((r) => [...r[c]!].length)));
  const labelWidth = Math.max(headers[0]!.length, width - numberWidths.reduce((a, b) => a + b, 0) - 2 * (headers.length - 1));
  const title = `stopped early (${rows.length} configuration${rows.length > 1 ? 's' : ''}: pruned or paused, no seed finished; not ranked)`;
  return `${title}\n${table(headers, cells, { align: ['left', 'left', 'right', 'right', 'right'], maxWidth: [labelWidth] })}`;
}
