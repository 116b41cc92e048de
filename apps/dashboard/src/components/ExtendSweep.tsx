'use client';
// The sweep page's small control for growing a sweep (sweeps.extend): more seeds for every
// configuration, and more values for one grid parameter — or, for a sampled sweep, more
// configurations for its search. Writes go through the dashboard's sign-in,
// like cancelling; the sweep's extensions so far are listed under it.
import { useState } from 'react';
import { formatDateTime } from '../lib/format';
import { gridKeys } from '@lmsweep/protocol/labels';
import { isSampled } from '../lib/config';
import { gridValues } from '../lib/grid-values';
import { describeError, trpc, type RouterOutputs } from '../lib/trpc';
import { SignInLink, useAuth } from './auth';

type Sweep = RouterOutputs['sweeps']['get'];

interface Extension {
  at: string;
  by: string;
  trials: number;
  request: { seeds?: number; configs?: string[]; grid?: Record<string, unknown[]>; trials?: number };
}

/** What an extension asked for, in a few words. */
function describeExtension(x: Extension): string {
  const parts: string[] = [];
  for (const [k, vs] of Object.entries(x.request.grid ?? {})) parts.push(`${k} += ${vs.map((v) => JSON.stringify(v)).join(', ')}`);
  if (x.request.trials) parts.push(`${x.request.trials} more configuration${x.request.trials > 1 ? 's' : ''} for the search`);
  if (x.request.seeds) parts.push(`${x.request.seeds} more seed${x.request.seeds > 1 ? 's' : ''}${x.request.configs ? ` for ${x.request.configs.length} configuration${x.request.configs.length > 1 ? 's' : ''}` : ''}`);
  // (more configurations for a search add no trials at once: the growth step samples them)
  return x.request.trials && !x.trials ? parts.join('; ') : `${parts.join('; ') || 'extended'} (${x.trials} trials)`;
}

export function Extensions({ sweep }: { sweep: Sweep }) {
  const list = (Array.isArray(sweep.extensions) ? sweep.extensions : []) as unknown as Extension[];
  if (!list.length) return null;
  return (
    <ul className="extensions muted small" data-testid="extensions">
      {list.map((x, i) => (
        <li key={i}>
          extended {formatDateTime(x.at)} by {x.by}: {describeExtension(x)}
        </li>
      ))}
    </ul>
  );
}

/** A whole number from 1 to `max` and its button. */
function CountForm(p: { value: string; onChange: (v: string) => void; max: number; busy: boolean; label: string; inputId: string; buttonId: string; button: string; onSubmit: (n: number) => void }) {
  const n = Number(p.value);
  const ok = Number.isInteger(n) && n >= 1 && n <= p.max;
  return (
    <form
      className="field-inline"
      onSubmit={(e) => {
        e.preventDefault();
        if (ok) p.onSubmit(n);
      }}
    >
      <input type="number" min={1} max={p.max} value={p.value} onChange={(e) => p.onChange(e.target.value)} aria-label={p.label} data-testid={p.inputId} style={{ width: '5em' }} />
      <button type="submit" className="btn btn-small" disabled={p.busy || !ok} data-testid={p.buttonId}>
        {p.button}
      </button>
    </form>
  );
}

export function ExtendSweep({ sweep, onDone }: { sweep: Sweep; onDone: () => void }) {
  const auth = useAuth();
  const sampled = isSampled(sweep.spec);
  const keys = sampled ? [] : gridKeys(sweep.spec);
  const [seeds, setSeeds] = useState('1');
  const [trials, setTrials] = useState('4');
  const [key, setKey] = useState(keys[0] ?? '');
  const [values, setValues] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  if (!auth.canWrite) {
    return (
      <SignInLink className="btn btn-small" testId="sign-in-to-extend">
        {sampled ? 'Sign in to add configurations or seeds' : 'Sign in to add seeds or values'}
      </SignInLink>
    );
  }
  const run = async (input: { seeds?: number; trials?: number; grid?: Record<string, ReturnType<typeof gridValues>> }) => {
    setBusy(true);
    setNote(null);
    try {
      const r = await trpc().sweeps.extend.mutate({ id: sweep.id, by: 'dashboard', ...input });
      setNote({ ok: true, text: `added ${r.summary}` });
      setValues('');
      onDone();
    } catch (e) {
      setNote({ ok: false, text: describeError(e) });
    } finally {
      setBusy(false);
    }
  };
  const parsed = gridValues(values);
  return (
    <div className="extend" data-testid="extend-sweep">
      {sampled && <CountForm value={trials} onChange={setTrials} max={10_000} busy={busy} label="configurations to add to the search" inputId="extend-trials" buttonId="add-configs" button="Add configurations" onSubmit={(n) => void run({ trials: n })} />}
      <CountForm value={seeds} onChange={setSeeds} max={1000} busy={busy} label="seeds to add per configuration" inputId="extend-seeds" buttonId="add-seeds" button="Add seeds" onSubmit={(n) => void run({ seeds: n })} />
      {keys.length > 0 && (
        <form
          className="field-inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (key && parsed.length) void run({ grid: { [key]: parsed } });
          }}
        >
          <select value={key} onChange={(e) => setKey(e.target.value)} aria-label="grid parameter" data-testid="extend-key">
            {keys.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
          <input value={values} onChange={(e) => setValues(e.target.value)} placeholder="e.g. 96, 128" aria-label="values to add" data-testid="extend-values" style={{ width: '10em' }} />
          <button type="submit" className="btn btn-small" disabled={busy || !key || !parsed.length} data-testid="add-values">
            Add values
          </button>
        </form>
      )}
      {note && (
        <span className={`small ${note.ok ? 'muted' : 'warn'}`} data-testid="extend-note" role={note.ok ? 'status' : 'alert'}>
          {note.text}
        </span>
      )}
    </div>
  );
}
