'use client';
// The spec editor: validated by the coordinator as you type, launched with one click.
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { describeError, fieldIssuesOf, needsSignIn, trpc, type FieldIssue } from '../lib/trpc';
import { SignInLink, useAuth } from './auth';

export const EXAMPLE_SPEC = `# Dense LSTM language models on Penn Treebank:
# three hidden sizes, two seeds each.
name: ptb-hidden-sweep
dataset: { name: ptb, vocabSize: 2000 }
model: { embedding: 64, hidden: 64, layers: 1 }
training: { batchSize: 20, unroll: 20, lr: 1 }
budget: { maxSteps: 200, evalTokens: 20000 }
grid:
  model.hidden: [32, 64, 128]
seeds: 2
baseline: { model.hidden: 128 }
`;

type Validation =
  | { state: 'idle' }
  | { state: 'checking' }
  | { state: 'done'; text: string; ok: boolean; issues: FieldIssue[]; trials: number; search?: { sampler: string; configurations: number; parallel: number } }
  | { state: 'error'; message: string };

function Issues({ issues, title }: { issues: FieldIssue[]; title: string }) {
  return (
    <div className="spec-errors" data-testid="spec-errors" role="alert">
      <strong>{title}</strong>
      <ul>
        {issues.map((i, k) => (
          <li key={k}>
            <code className="issue-path">{i.path || '(spec)'}</code>: {i.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function LaunchForm() {
  const router = useRouter();
  const [text, setText] = useState(EXAMPLE_SPEC);
  const [validation, setValidation] = useState<Validation>({ state: 'idle' });
  const [launching, setLaunching] = useState(false);
  const [refusal, setRefusal] = useState<{ issues: FieldIssue[] } | { message: string; signIn?: boolean } | null>(null);
  const auth = useAuth();
  const seq = useRef(0);

  // Validate 400 ms after the last keystroke; only the newest answer counts.
  useEffect(() => {
    const mine = ++seq.current;
    if (!text.trim()) {
      setValidation({ state: 'idle' });
      return;
    }
    setValidation((v) => (v.state === 'done' ? v : { state: 'checking' }));
    const ac = new AbortController();
    const timer = setTimeout(() => {
      trpc()
        .sweeps.validate.query({ spec: text }, { signal: ac.signal })
        .then((r) => {
          if (seq.current === mine) setValidation({ state: 'done', text, ok: r.ok, issues: r.issues, trials: r.trials, ...(r.search ? { search: r.search } : {}) });
        })
        .catch((e: unknown) => {
          if (seq.current !== mine || ac.signal.aborted) return;
          const issues = fieldIssuesOf(e);
          if (issues) setValidation({ state: 'done', text, ok: false, issues, trials: 0 });
          else setValidation({ state: 'error', message: describeError(e) });
        });
    }, 400);
    return () => {
      clearTimeout(timer);
      ac.abort();
    };
  }, [text]);

  const current = validation.state === 'done' && validation.text === text;
  const knownInvalid = current && !validation.ok;

  async function launch() {
    if (launching || !text.trim() || !auth.canWrite) return;
    setLaunching(true);
    setRefusal(null);
    try {
      const r = await trpc().sweeps.create.mutate({ spec: text });
      router.push(`/sweeps/${r.id}`);
    } catch (e) {
      const issues = fieldIssuesOf(e);
      setRefusal(issues ? { issues } : { message: describeError(e), signIn: needsSignIn(e) });
      setLaunching(false);
    }
  }

  function onKeyDown(ev: KeyboardEvent<HTMLTextAreaElement>) {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      void launch();
    } else if (ev.key === 'Tab' && !ev.shiftKey) {
      // Indent instead of leaving the editor (YAML is indented with spaces).
      ev.preventDefault();
      const el = ev.currentTarget;
      const { selectionStart: s, selectionEnd: e } = el;
      const next = `${text.slice(0, s)}  ${text.slice(e)}`;
      setText(next);
      requestAnimationFrame(() => el.setSelectionRange(s + 2, s + 2));
    }
  }

  return (
    <section className="card launch" aria-labelledby="launch-title">
      <div className="card-head">
        <h2 id="launch-title">Launch a sweep</h2>
        <button type="button" className="btn btn-link" onClick={() => setText(EXAMPLE_SPEC)} disabled={text === EXAMPLE_SPEC}>
          Reset example
        </button>
      </div>
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          void launch();
        }}
      >
        <label htmlFor="spec" className="label">
          Sweep spec <span className="muted">(YAML or JSON)</span>
        </label>
        <textarea
          id="spec"
          name="spec"
          className="editor"
          data-testid="spec-editor"
          value={text}
          onChange={(ev) => {
            setText(ev.target.value);
            setRefusal(null);
          }}
          onKeyDown={onKeyDown}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          autoCorrect="off"
          rows={16}
          wrap="off"
          aria-describedby="spec-status"
          aria-invalid={knownInvalid || undefined}
        />
        <div id="spec-status" className="spec-status" aria-live="polite">
          {validation.state === 'checking' || (validation.state === 'done' && !current) ? (
            <span className="muted">Checking…</span>
          ) : validation.state === 'done' && validation.ok ? (
            <span className="ok" data-testid="trial-count">
              ✓ Valid: {validation.search
                ? `a ${validation.search.sampler} search of ${validation.search.configurations} configurations, ${validation.search.parallel} at a time; ${validation.trials} trial${validation.trials === 1 ? '' : 's'} queued at launch`
                : `${validation.trials} trial${validation.trials === 1 ? '' : 's'} will be queued`}
            </span>
          ) : validation.state === 'error' ? (
            <span className="warn">Could not validate: {validation.message}</span>
          ) : null}
        </div>
        {refusal && 'issues' in refusal ? (
          <Issues issues={refusal.issues} title="The coordinator refused this spec:" />
        ) : refusal ? (
          <div className="spec-errors" data-testid="spec-errors" role="alert">
            <strong>Launch failed:</strong> {refusal.message}
            {refusal.signIn && (
              <>
                {' '}
                <SignInLink>Sign in again</SignInLink>
              </>
            )}
          </div>
        ) : validation.state === 'done' && !validation.ok ? (
          <Issues issues={validation.issues} title={`${validation.issues.length} problem${validation.issues.length === 1 ? '' : 's'}:`} />
        ) : null}
        {auth.canWrite ? (
          <div className="actions">
            <button type="submit" className="btn btn-primary" data-testid="launch" disabled={launching || !text.trim() || knownInvalid}>
              {launching ? 'Launching…' : 'Launch'}
            </button>
            <span className="muted small">Ctrl+Enter launches</span>
          </div>
        ) : (
          <div className="actions">
            <SignInLink className="btn btn-primary" testId="sign-in-to-launch">
              Sign in to launch
            </SignInLink>
            <p className="muted small sign-in-note">This dashboard guards launching with the API token; the spec is checked as you type either way.</p>
          </div>
        )}
      </form>
    </section>
  );
}
