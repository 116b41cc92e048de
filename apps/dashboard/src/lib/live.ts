'use client';
// Live data: one shared `live.changes` subscription per page, fanned out to every hook that
// wants it, and `useLive`, which loads through tRPC, reloads (coalesced) when a relevant change
// arrives, and polls slowly in case the stream is down.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { Unsubscribable } from '@trpc/server/observable';
import { trpc } from './trpc';

export type ChangeKind = 'sweep' | 'trial' | 'worker' | 'metric';
export interface Change {
  kind: ChangeKind;
  id: string;
  sweepId?: string | null;
  status?: string | null;
}
/** `resync`: the stream (re)connected and changes may have been missed: reload everything. */
type Event = Change | { kind: 'resync' };
type Listener = (e: Event) => void;

export type StreamState = 'connecting' | 'live' | 'down';

const RETRY_MS = 3_000;
/** How often a hook reloads while the stream is live (it reloads on every relevant change anyway). */
const LIVE_POLL_MS = 60_000;
const listeners = new Set<Listener>();
const stateListeners = new Set<() => void>();
let streamState: StreamState = 'connecting';
let sub: Unsubscribable | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let stopTimer: ReturnType<typeof setTimeout> | undefined;

function setStreamState(s: StreamState): void {
  if (s === streamState) return;
  streamState = s;
  for (const l of stateListeners) l();
}

function emit(e: Event): void {
  for (const l of [...listeners]) l(e);
}

function startStream(): void {
  if (sub || typeof window === 'undefined') return;
  clearTimeout(retryTimer);
  setStreamState('connecting');
  let failed = false;
  const s: Unsubscribable = trpc().live.changes.subscribe(
    {},
    {
      onStarted() {
        // (Re)connected: changes may have been missed meanwhile.
        setStreamState('live');
        emit({ kind: 'resync' });
      },
      onData(c) {
        emit(c as Change);
      },
      onConnectionStateChange(state) {
        if (state.state === 'connecting' && state.error) setStreamState('down');
        else if (state.state === 'pending') setStreamState('live');
      },
      onError() {
        // The EventSource gave up (e.g. the proxy answered 502): start over in a while.
        failed = true;
        setStreamState('down');
        queueMicrotask(() => {
          if (sub === s) sub = null;
          s.unsubscribe();
        });
        clearTimeout(retryTimer);
        if (listeners.size) retryTimer = setTimeout(startStream, RETRY_MS);
      },
    },
  );
  if (!failed) sub = s;
}

function stopStream(): void {
  clearTimeout(retryTimer);
  sub?.unsubscribe();
  sub = null;
  setStreamState('connecting');
}

/** Listen to every change (and resyncs); the stream runs while anyone listens. */
export function onChange(listener: Listener): () => void {
  listeners.add(listener);
  clearTimeout(stopTimer);
  startStream();
  return () => {
    listeners.delete(listener);
    // Keep the stream across a client-side navigation, where one page's hooks unmount just
    // before the next page's mount.
    if (!listeners.size) stopTimer = setTimeout(() => !listeners.size && stopStream(), 2_000);
  };
}

/** The state of the change stream, for the header's live indicator. */
export function useStreamState(): StreamState {
  return useSyncExternalStore(
    (cb) => {
      stateListeners.add(cb);
      return () => stateListeners.delete(cb);
    },
    () => streamState,
    () => 'connecting',
  );
}

export interface LiveOptions {
  /** Which changes call for a reload; absent: every change. */
  relevant?: (c: Change) => boolean;
  /** Reload at least this often while the change stream is down (at least every minute while it is live). */
  pollMs?: number;
  /** Changes arriving within this window cause one reload. */
  debounceMs?: number;
}

export interface Live<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Reload now. */
  refresh: () => void;
}

/**
 * Loads `load()` and keeps it current. `key` names what is loaded: when it changes, the data is
 * loaded afresh (the previous data stays on screen until then).
 */
export function useLive<T>(key: string, load: (signal: AbortSignal) => Promise<T>, opts: LiveOptions = {}): Live<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  const relevantRef = useRef(opts.relevant);
  const refreshRef = useRef<() => void>(() => {});
  loadRef.current = load;
  relevantRef.current = opts.relevant;
  const pollMs = opts.pollMs ?? 5_000;
  const debounceMs = opts.debounceMs ?? 300;

  useEffect(() => {
    let disposed = false;
    let inFlight = false;
    let again = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastLoad = 0;
    let shown: string | undefined;
    const ac = new AbortController();
    setLoading(true);

    const run = async (): Promise<void> => {
      if (disposed) return;
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      lastLoad = Date.now();
      try {
        const d = await loadRef.current(ac.signal);
        if (!disposed) {
          // An answer equal to the one shown keeps the old object: a reload that changed
          // nothing (a poll, a resync, a change elsewhere) re-renders nothing.
          const text = JSON.stringify(d);
          if (text !== shown) {
            shown = text;
            setData(d);
          }
          setError(null);
        }
      } catch (e) {
        if (!disposed && !ac.signal.aborted) setError(e);
      } finally {
        inFlight = false;
        if (!disposed) setLoading(false);
        if (again && !disposed) {
          again = false;
          void run();
        }
      }
    };
    // Coalesce: the first change starts the timer, later ones ride along (a steady stream of
    // metrics still reloads every debounceMs rather than never).
    const schedule = () => {
      if (timer === undefined) {
        timer = setTimeout(() => {
          timer = undefined;
          void run();
        }, debounceMs);
      }
    };
    refreshRef.current = () => void run();
    void run();
    const off = onChange((e) => {
      if (e.kind === 'resync' || !relevantRef.current || relevantRef.current(e)) schedule();
    });
    // While the stream is live it says what changed, and the poll is a slow safety net.
    const poll = setInterval(() => {
      const every = streamState === 'live' ? Math.max(pollMs, LIVE_POLL_MS) : pollMs;
      if (document.visibilityState === 'visible' && Date.now() - lastLoad >= every * 0.8) void run();
    }, pollMs);
    return () => {
      disposed = true;
      ac.abort();
      off();
      clearInterval(poll);
      clearTimeout(timer);
    };
  }, [key, pollMs, debounceMs]);

  const refresh = useCallback(() => refreshRef.current(), []);
  return { data, error, loading, refresh };
}

/** The current time, ticking every `ms` (for "3 s ago") while `ticking`: a page that shows nothing live does not re-render every second. */
export function useNow(ms = 1_000, ticking = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms, ticking]);
  return now;
}
