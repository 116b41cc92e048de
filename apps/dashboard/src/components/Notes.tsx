'use client';
// The Markdown note of a sweep or a trial: shown rendered (lib/markdown: text is never HTML), and
// edited in place by anyone who may write (sweeps.setNote, trials.setNote); `lmsweep note` shows
// the same note.
import { Fragment, useState, type ReactNode } from 'react';
import { formatDateTime } from '../lib/format';
import { parseMarkdown, type Block, type Inline } from '../lib/markdown';
import { describeError, trpc } from '../lib/trpc';
import { SignInLink, useAuth } from './auth';

const MAX = 20_000;

function inline(runs: Inline[]): ReactNode {
  return runs.map((r, i) => {
    switch (r.t) {
      case 'text':
        return <Fragment key={i}>{r.v}</Fragment>;
      case 'code':
        return <code key={i}>{r.v}</code>;
      case 'strong':
        return <strong key={i}>{inline(r.c)}</strong>;
      case 'em':
        return <em key={i}>{inline(r.c)}</em>;
      case 'link':
        return (
          <a key={i} href={r.href} rel="noopener noreferrer nofollow" target={r.href.startsWith('/') ? undefined : '_blank'}>
            {inline(r.c)}
          </a>
        );
    }
  });
}

function block(b: Block, i: number): ReactNode {
  switch (b.type) {
    case 'h':
      return b.level === 1 ? <h3 key={i}>{inline(b.c)}</h3> : <h4 key={i}>{inline(b.c)}</h4>;
    case 'p':
      return <p key={i}>{inline(b.c)}</p>;
    case 'quote':
      return <blockquote key={i}>{inline(b.c)}</blockquote>;
    case 'code':
      return <pre key={i}>{b.text}</pre>;
    case 'ul':
    case 'ol': {
      const List = b.type;
      return (
        <List key={i}>
          {b.items.map((it, k) => (
            <li key={k}>{inline(it)}</li>
          ))}
        </List>
      );
    }
  }
}

export function Markdown({ text }: { text: string }) {
  return <div className="markdown">{parseMarkdown(text).map(block)}</div>;
}

export function Notes({ kind, id, note, updatedAt, onSaved }: { kind: 'sweep' | 'trial'; id: string; note: string; updatedAt: string | Date | null; onSaved: () => void }) {
  const auth = useAuth();
  const [draft, setDraft] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    if (draft === null) return;
    setBusy(true);
    setError(null);
    try {
      if (kind === 'sweep') await trpc().sweeps.setNote.mutate({ id, note: draft });
      else await trpc().trials.setNote.mutate({ id, note: draft });
      setDraft(null);
      onSaved();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card notes" aria-labelledby={`notes-${id}`} data-testid="notes">
      <div className="card-head">
        <h2 id={`notes-${id}`}>Notes</h2>
        {draft === null &&
          (auth.canWrite ? (
            <button type="button" className="btn btn-small" onClick={() => setDraft(note)} data-testid="notes-edit">
              {note ? 'Edit' : 'Add a note'}
            </button>
          ) : (
            <SignInLink className="btn btn-small" testId="sign-in-to-note">
              Sign in to edit
            </SignInLink>
          ))}
      </div>
      {draft !== null ? (
        <div className="notes-edit">
          <textarea value={draft} onChange={(e) => setDraft(e.target.value)} rows={8} maxLength={MAX} aria-label={`note on this ${kind} (Markdown)`} data-testid="notes-text" />
          <div className="actions">
            <button type="button" className="btn btn-primary" disabled={busy} onClick={save} data-testid="notes-save">
              {busy ? 'Saving…' : 'Save'}
            </button>
            <button type="button" className="btn" disabled={busy} onClick={() => setDraft(null)}>
              Cancel
            </button>
            <span className="muted small">
              Markdown: # heading, **bold**, *italic*, `code`, - lists, [links](https://…) · {draft.length}/{MAX}
            </span>
            {error && <span className="warn small">{error}</span>}
          </div>
        </div>
      ) : note ? (
        <>
          <div data-testid="notes-body">
            <Markdown text={note} />
          </div>
          {updatedAt && <p className="muted small">written {formatDateTime(updatedAt)}</p>}
        </>
      ) : (
        <p className="muted small" data-testid="notes-empty">
          No note yet{auth.canWrite ? '' : ' (sign in to add one)'}.
        </p>
      )}
    </section>
  );
}
