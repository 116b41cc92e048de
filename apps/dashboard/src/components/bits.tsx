// Small presentational pieces shared by the pages.
import type { ReactNode } from 'react';
import { formatPercent } from '../lib/format';

/** In the order the bars stack them: results first (succeeded, then pruned: stopped early), then work under way or waiting (paused at a rung), then what ended without a result. */
export const TRIAL_STATUSES = ['succeeded', 'pruned', 'running', 'paused', 'queued', 'failed', 'cancelled'] as const;
export type TrialStatusName = (typeof TRIAL_STATUSES)[number];

const STATUS_TITLES: Partial<Record<string, string>> = {
  paused: 'paused at a rung, its resume checkpoint stored: it resumes if promoted',
  pruned: 'stopped early by the pruner: a result at the step it reached, not a failure',
};

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const s = status ?? 'unknown';
  return (
    <span className={`badge badge-${s}`} title={STATUS_TITLES[s]}>
      {s}
    </span>
  );
}

/** Where a stopped trial stopped: "pruned at step 300", "paused at step 600"; null for the other statuses. */
export function stoppedAt(t: { status: string; steps?: number | null }): string | null {
  if ((t.status !== 'pruned' && t.status !== 'paused') || t.steps === null || t.steps === undefined) return null;
  return `${t.status} at step ${t.steps}`;
}

/** Trials by status as one thin stacked bar, with the numbers in its tooltip. */
export function StackedBar({ counts, total, wide = false }: { counts: Partial<Record<string, number>>; total?: number; wide?: boolean }) {
  const sum = total ?? TRIAL_STATUSES.reduce((n, s) => n + (counts[s] ?? 0), 0);
  const label = TRIAL_STATUSES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(', ') || 'no trials';
  return (
    <div className={wide ? 'stacked wide' : 'stacked'} role="img" aria-label={label} title={label}>
      {sum > 0 &&
        TRIAL_STATUSES.map((s) =>
          counts[s] ? <span key={s} className={`seg seg-${s}`} style={{ width: `${((counts[s] ?? 0) / sum) * 100}%` }} /> : null,
        )}
    </div>
  );
}

export function ProgressBar({ value, label }: { value: number | null | undefined; label?: string }) {
  const v = typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.min(1, value)) : 0;
  return (
    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(v * 100)} aria-label={label ?? 'progress'}>
      <span className="progress-fill" style={{ width: `${v * 100}%` }} />
      <span className="progress-text">{formatPercent(v)}</span>
    </div>
  );
}

export function ErrorBanner({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div className="banner banner-error" role="alert">
      <strong>{message === 'coordinator unreachable' ? 'Coordinator unreachable' : 'Error'}</strong>
      <span>{message === 'coordinator unreachable' ? 'the dashboard cannot reach the coordinator (LMSWEEP_URL); retrying…' : message}</span>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function Loading() {
  return <p className="empty">Loading…</p>;
}

/** Previous/next buttons for an offset-paged table; nothing when everything fits on one page. */
export function Pager({ offset, pageSize, total, onOffset, labels = ['← Previous', 'Next →'] }: { offset: number; pageSize: number; total: number; onOffset: (offset: number) => void; labels?: [string, string] }) {
  if (total <= pageSize) return null;
  return (
    <div className="actions">
      <button type="button" className="btn btn-small" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - pageSize))}>
        {labels[0]}
      </button>
      <span className="muted small">
        {offset + 1}–{Math.min(total, offset + pageSize)} of {total}
      </span>
      <button type="button" className="btn btn-small" disabled={offset + pageSize >= total} onClick={() => onOffset(offset + pageSize)}>
        {labels[1]}
      </button>
    </div>
  );
}
