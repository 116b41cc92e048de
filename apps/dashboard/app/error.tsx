'use client';
// A page that threw while rendering: say what happened, inside the normal layout, with a retry.
import { useEffect } from 'react';

export default function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <section className="card">
      <h1>Something went wrong on this page</h1>
      <p className="muted">{error.message || 'An unexpected error occurred while rendering.'}</p>
      <button type="button" className="btn" onClick={reset}>
        Try again
      </button>
    </section>
  );
}
