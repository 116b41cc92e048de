'use client';
// One trial: what it ran, how it went (curves per attempt, with where it paused and resumed), what
// it produced, why it failed, or why its sweep's pruner paused or stopped it.
import Link from 'next/link';
import { useEffect } from 'react';
import { methodLabel } from '@lmsweep/protocol/methods';
import { formatCount, formatDateTime, formatDuration, formatPpl, secondsBetween, shortId } from '../lib/format';
import { useLive, useNow } from '../lib/live';
import { describeError, isNotFound, trpc, type RouterOutputs } from '../lib/trpc';
import { Empty, ErrorBanner, Loading, ProgressBar, StatusBadge } from './bits';
import { LineChart, PALETTE, type Marker, type Series } from './charts';
import { Exportable } from './Exportable';
import { Notes } from './Notes';

type Trial = RouterOutputs['trials']['get'];
type Curve = Trial['curves'][number];

const PRIMARY = ['train_loss', 'valid_ppl'];
const TITLES: Record<string, { title: string; y: string; log?: boolean }> = {
  train_loss: { title: 'Training loss', y: 'train loss' },
  valid_ppl: { title: 'Validation perplexity', y: 'valid ppl', log: true },
};

/** A pause of a pruned sweep's trial: attempt `attempt` trained through step `through` (Trial.segments). */
type Segment = { attempt: number; through: number };

/** The trial's segments as stored (JSON): well-formed entries only. */
function segmentsOf(t: Trial): Segment[] {
  const raw: unknown = t.segments;
  return Array.isArray(raw) ? raw.filter((s): s is Segment => typeof s?.attempt === 'number' && typeof s?.through === 'number') : [];
}

/** "attempt 2, steps 300–600": where each attempt's part of the curve starts (the pause it resumed from) and ends (its own pause). */
function attemptLabel(attempt: number, segments: Segment[]): string {
  const from = segments.filter((s) => s.attempt < attempt).at(-1)?.through;
  const to = segments.find((s) => s.attempt === attempt)?.through;
  if (from === undefined && to === undefined) return `attempt ${attempt}`;
  if (from === undefined) return `attempt ${attempt}, to step ${to}`;
  return to === undefined ? `attempt ${attempt}, from step ${from}` : `attempt ${attempt}, steps ${from}–${to}`;
}

/** The verdict as stored (protocol PruneVerdict; a non-finite value arrives as null). */
interface VerdictView {
  action: 'stop' | 'pause' | 'continue';
  step: number;
  rung?: number | null;
  value?: number | null;
  threshold?: number | null;
  reason?: string;
}

/** Dashed lines where the trial paused (and resumed from, when a later attempt did) and where it was stopped. */
function markersFor(t: Trial, segments: Segment[], verdict: VerdictView | null): Marker[] {
  const attempts = new Set((t.curves ?? []).map((c) => c.attempt));
  const markers: Marker[] = segments.map((s) => ({
    x: s.through,
    kind: 'paused',
    label: [...attempts].some((a) => a > s.attempt) ? `paused · resumed at ${s.through}` : `paused at ${s.through}`,
  }));
  if (t.status === 'pruned' && verdict && verdict.action === 'stop') markers.push({ x: verdict.step, kind: 'pruned', label: `pruned at ${verdict.step}` });
  return markers;
}

function seriesFor(curves: Curve[], name: string, segments: Segment[]): Series[] {
  const attempts = [...new Set(curves.map((c) => c.attempt))].sort((a, b) => a - b);
  const of = curves.filter((c) => c.name === name).sort((a, b) => a.attempt - b.attempt);
  return of.map((c) => {
    // A resumed attempt's line starts where the pause it resumed from left the curve.
    const from = segments.filter((s) => s.attempt < c.attempt).at(-1);
    const prev = from && of.find((o) => o.attempt === from.attempt)?.points.filter((p) => p.step <= from.through).at(-1);
    return {
      label: attemptLabel(c.attempt, segments),
      color: PALETTE[attempts.indexOf(c.attempt) % PALETTE.length]!,
      // JSON carries NaN/Infinity as null: a diverged step breaks the line.
      points: c.points.map((p) => ({ x: p.step, y: p.value ?? Number.NaN })),
      ...(prev && prev.value !== null ? { lead: { x: prev.step, y: prev.value } } : {}),
    };
  });
}

interface CompressionView {
  baselineTrialId: string;
  baselineParams: number;
  baselineValidPpl: number;
  validPplBefore: number;
  testPplBefore: number;
  finetuneSteps: number;
  matrices: Record<string, { rows: number; cols: number; params: number; rate: number; werr: number; ranks: number[]; seconds: number }>;
}

/** The fine-tuning of a trial that starts from its baseline (results since the best point is kept). */
interface FinetuneView {
  baselineTrialId: string;
  steps: number;
  lr: number;
  validPplBefore: number;
  validPplLast: number;
  bestStep: number;
}

/** Perplexity after the last fine-tuning step and at the best validation point (the one reported). */
function FinetuneFacts({ f, steps, validPpl }: { f: FinetuneView | null; steps: number; validPpl: number | null }) {
  return (
    <>
      <Fact label={`After fine-tuning (${steps} steps)`}>{formatPpl(f ? f.validPplLast : validPpl)}</Fact>
      {f && <Fact label={`Best, at step ${f.bestStep} (reported)`}>{formatPpl(validPpl)}</Fact>}
      {f && <Fact label="Fine-tuning lr">{f.lr.toPrecision(3)}</Fact>}
    </>
  );
}

/** The dense + fine-tune control: its baseline fine-tuned like the compression trials, uncompressed. */
function ControlCard({ f, validPpl }: { f: FinetuneView; validPpl: number | null }) {
  return (
    <section className="card" data-testid="finetune">
      <div className="card-head">
        <h2>Dense + fine-tune</h2>
        <span className="muted">
          <Link href={`/trials/${f.baselineTrialId}`}>baseline trial {shortId(f.baselineTrialId)}</Link>, fine-tuned like the compression trials without compressing: what their extra steps alone give
        </span>
      </div>
      <dl className="facts">
        <Fact label="Baseline valid ppl">{formatPpl(f.validPplBefore)}</Fact>
        <FinetuneFacts f={f} steps={f.steps} validPpl={validPpl} />
      </dl>
    </section>
  );
}

/** A compression trial's story: the baseline, each compressed matrix, perplexity before and after fine-tuning. */
function CompressionCard({ c, f, validPpl, params }: { c: CompressionView; f: FinetuneView | null; validPpl: number | null; params: number | null }) {
  return (
    <section className="card" data-testid="compression">
      <div className="card-head">
        <h2>Compression</h2>
        <span className="muted">
          from <Link href={`/trials/${c.baselineTrialId}`}>baseline trial {shortId(c.baselineTrialId)}</Link>
          {params !== null && ` · ${formatCount(c.baselineParams)} → ${formatCount(params)} parameters (${(c.baselineParams / params).toFixed(2)}×)`}
        </span>
      </div>
      <table className="table">
        <thead>
          <tr>
            <th>matrix</th>
            <th className="num">size</th>
            <th className="num">params</th>
            <th className="num">rate</th>
            <th className="num">weighted error</th>
            <th>block ranks</th>
            <th className="num">seconds</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(c.matrices).map(([name, m]) => (
            <tr key={name}>
              <td>{name}</td>
              <td className="num">
                {m.rows}×{m.cols}
              </td>
              <td className="num">{formatCount(m.params)}</td>
              <td className="num">{m.rate.toFixed(2)}×</td>
              <td className="num">{m.werr.toPrecision(3)}</td>
              <td className="mono">{m.ranks.length > 12 ? `${m.ranks.slice(0, 12).join(' ')} … (${m.ranks.length} blocks)` : m.ranks.join(' ')}</td>
              <td className="num">{m.seconds.toFixed(2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <dl className="facts">
        <Fact label="Baseline valid ppl">{formatPpl(c.baselineValidPpl)}</Fact>
        <Fact label="After compression">{formatPpl(c.validPplBefore)}</Fact>
        <FinetuneFacts f={f} steps={c.finetuneSteps} validPpl={validPpl} />
      </dl>
    </section>
  );
}

/** Why the pruner paused or stopped the trial: its verdict, with the value it judged against the threshold. */
function VerdictBox({ t, v }: { t: Trial; v: VerdictView }) {
  const paused = t.status === 'paused' || (t.status === 'running' && v.action === 'pause');
  const head =
    t.status === 'pruned'
      ? `Pruned at step ${v.step}: stopped early, a result at the step it reached`
      : t.status === 'paused'
        ? `Paused at step ${v.step}: waiting at its rung, it resumes from its checkpoint if promoted`
        : t.status === 'running' && v.action === 'pause'
          ? `Pausing at step ${v.step}: storing its resume checkpoint`
          : `${v.action === 'stop' ? 'Stop' : 'Pause'} verdict at step ${v.step}`;
  // A non-finite value (a diverged run) comes as null over JSON.
  const value = v.value === null || v.value === undefined ? 'not finite' : formatPpl(v.value);
  return (
    <div className={`verdict-box${paused ? ' paused' : ''}`} role="note" data-testid="trial-verdict">
      <h2>{head}</h2>
      <dl className="facts">
        <Fact label="Action">{v.action === 'stop' ? 'stop' : 'pause'}</Fact>
        <Fact label="Step">{v.step}</Fact>
        <Fact label="Rung">{v.rung ?? '—'}</Fact>
        <Fact label="Value vs threshold">
          {value} vs {v.threshold === null || v.threshold === undefined ? 'none' : formatPpl(v.threshold)}
        </Fact>
        {t.promotions > 0 && <Fact label="Resumed">{t.promotions}×</Fact>}
      </dl>
      {v.reason && <p data-testid="verdict-reason">{v.reason}</p>}
    </div>
  );
}

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** Points per curve the trial page asks for (the API thins longer curves to each stretch's lowest and highest). */
const CHART_POINTS = 2_400;

export function TrialDetail({ id }: { id: string }) {
  // A chart is at most ~1200 px wide: two points a pixel keep every stretch's low and high.
  const live = useLive(`trial:${id}`, (signal) => trpc().trials.get.query({ id, points: CHART_POINTS }, { signal }), {
    relevant: (c) => (c.kind === 'trial' || c.kind === 'metric') && c.id === id,
  });
  const now = useNow(1_000);
  const t = live.data;
  const ordinal = t?.ordinal;
  useEffect(() => {
    if (ordinal !== undefined) document.title = `Trial #${ordinal} · lmsweep`;
  }, [ordinal]);
  if (!t) {
    if (live.error) {
      return isNotFound(live.error) ? <Empty>Trial {id} not found.</Empty> : <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} />;
    }
    return <Loading />;
  }
  const curves: Curve[] = t.curves ?? [];
  const names = [...new Set(curves.map((c) => c.name))];
  const extra = names.filter((n) => !PRIMARY.includes(n)).sort();
  const attempts = [...new Set(curves.map((c) => c.attempt))].sort((a, b) => a - b);
  const running = t.status === 'running';
  const duration = t.seconds ?? (t.startedAt ? secondsBetween(t.startedAt, t.finishedAt ?? (running ? now : null)) : null);
  const result = t.result as Record<string, unknown> | null;
  const compression = (result?.['compression'] ?? null) as CompressionView | null;
  const finetune = (result?.['finetune'] ?? null) as FinetuneView | null;
  const segments = segmentsOf(t);
  const verdict = (t.verdict ?? null) as VerdictView | null;
  const markers = markersFor(t, segments, verdict);
  const stopped = t.status === 'paused' || t.status === 'pruned';

  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link href="/">Sweeps</Link> / <Link href={`/sweeps/${t.sweepId}`}>sweep {shortId(t.sweepId)}</Link> / trial #{t.ordinal}
      </nav>
      {live.error ? <ErrorBanner message={describeError(live.error)} onRetry={live.refresh} /> : null}
      <section className="card">
        <div className="card-head">
          <h1>
            Trial #{t.ordinal} <StatusBadge status={t.status} />
          </h1>
          <span className="muted mono">{t.id}</span>
        </div>
        <dl className="facts">
          <Fact label="Method">{methodLabel(t.method)}</Fact>
          <Fact label="Seed">{t.seed}</Fact>
          <Fact label="Attempt">
            {t.attempt} of {t.maxAttempts}
          </Fact>
          {/* Only a running trial has a worker; a finished, paused or pruned one keeps the name of its last. */}
          {running ? (
            <Fact label="Worker">{t.leaseOwner ? <span className="mono">{shortId(t.leaseOwner)}</span> : '—'}</Fact>
          ) : (
            <Fact label="Last worker">{t.leaseOwner ? <span className="mono">{shortId(t.leaseOwner)}</span> : '—'}</Fact>
          )}
          {t.parentId && (
            <Fact label="Starts from">
              <Link href={`/trials/${t.parentId}`}>trial {shortId(t.parentId)}</Link>
            </Fact>
          )}
          <Fact label="Parameters">{formatCount(t.params)}</Fact>
          <Fact label={stopped ? `Valid ppl at step ${t.steps ?? '?'}` : 'Valid ppl'}>{formatPpl(t.validPpl)}</Fact>
          <Fact label="Test ppl">{formatPpl(t.testPpl)}</Fact>
          <Fact label="Duration">{formatDuration(duration)}</Fact>
          <Fact label="Created">{formatDateTime(t.createdAt)}</Fact>
          <Fact label="Started">{formatDateTime(t.startedAt)}</Fact>
          <Fact label={t.status === 'paused' ? 'Paused' : t.status === 'pruned' ? 'Stopped' : 'Finished'}>{formatDateTime(t.finishedAt)}</Fact>
          {t.steps !== null && <Fact label="Steps trained">{formatCount(t.steps)}</Fact>}
          {t.rung !== null && <Fact label="Rung">{t.rung}</Fact>}
          {running && (
            <Fact label="Progress">
              <ProgressBar value={t.progress} />
            </Fact>
          )}
        </dl>
        {t.flag && (
          <div className="flag-box" role="note" data-testid="trial-flag">
            <h2>⚑ Flagged: left out of the leaderboard&apos;s mean</h2>
            <p>{t.flag}. The result is stored as reported; its configuration is ranked on its other seeds.</p>
          </div>
        )}
        {verdict && verdict.action !== 'continue' && <VerdictBox t={t} v={verdict} />}
        {t.error && (
          <div className="error-box" data-testid="trial-error">
            <h2>Error</h2>
            <pre>{t.error}</pre>
          </div>
        )}
      </section>

      {compression && <CompressionCard c={compression} f={finetune} validPpl={t.validPpl} params={t.params} />}
      {!compression && finetune && <ControlCard f={finetune} validPpl={t.validPpl} />}

      <section className="card">
        <div className="card-head">
          <h2>Curves</h2>
          <span className="muted">
            {attempts.length === 0 ? 'no metrics reported yet' : attempts.length === 1 ? 'one attempt' : `${attempts.length} attempts, one line each`}
            {segments.length > 0 && ` · dashed: where it paused (${segments.map((s) => `step ${s.through}`).join(', ')}) and resumed`}
          </span>
        </div>
        {curves.length === 0 ? (
          <Empty>No metrics yet{t.status === 'queued' ? (t.parentId ? ': the trial starts once its baseline trial has succeeded and a worker is free' : ': the trial is waiting for a worker') : ''}.</Empty>
        ) : (
          <div className="charts">
            {[...PRIMARY, ...extra].map((name) => {
              const meta = TITLES[name] ?? { title: name, y: name };
              return (
                <div key={name} className="chart-box">
                  <h3>{meta.title}</h3>
                  <Exportable kind="plot" name={`${name}-${t.id}`}>
                    <LineChart title={`${meta.title} against step`} series={seriesFor(curves, name, segments)} xLabel="step" yLabel={meta.y} yLog={meta.log} markers={markers} testId={`chart-${name}`} />
                  </Exportable>
                </div>
              );
            })}
          </div>
        )}
      </section>

      <Notes kind="trial" id={t.id} note={t.note} updatedAt={t.noteUpdatedAt} onSaved={live.refresh} />

      <div className="two-col">
        <section className="card">
          <h2>Config</h2>
          <pre className="json">{JSON.stringify(t.config, null, 2)}</pre>
        </section>
        <section className="card">
          <h2>Result</h2>
          {result ? (
            <pre className="json">{JSON.stringify(result, null, 2)}</pre>
          ) : t.status === 'pruned' ? (
            <Empty>No final result: stopped early at step {t.steps ?? '?'}, with validation perplexity {formatPpl(t.validPpl)} there.</Empty>
          ) : t.status === 'paused' ? (
            <Empty>No result yet: paused at step {t.steps ?? '?'}, it trains on if promoted.</Empty>
          ) : (
            <Empty>No result yet.</Empty>
          )}
        </section>
      </div>
    </>
  );
}
