import Link from 'next/link';

export default function NotFound() {
  return (
    <section className="card">
      <h1>Not found</h1>
      <p className="muted">
        There is no page here. Back to the <Link href="/">sweeps</Link>.
      </p>
    </section>
  );
}
