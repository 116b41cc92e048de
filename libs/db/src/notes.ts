// Notes: one Markdown note per sweep and per trial (the dashboard's Notes card, `lmsweep note`),
// replaced whole by each write, with the time of the last write; a change goes out on the
// changes channel so open pages show it.
import type { StoreContext } from './store-context.ts';
import { notifySql } from './store-context.ts';

/** The longest note stored (characters). */
export const MAX_NOTE_CHARS = 20_000;

export interface Note {
  note: string;
  noteUpdatedAt: Date | null;
}

/** Writes the note of a sweep or trial (null: no such one). Longer than MAX_NOTE_CHARS is the caller's to refuse. */
export async function setNote(ctx: StoreContext, kind: 'sweep' | 'trial', id: string, note: string): Promise<Note | null> {
  if (note.length > MAX_NOTE_CHARS) throw new RangeError(`note: at most ${MAX_NOTE_CHARS} characters, not ${note.length}`);
  const now = ctx.now();
  if (kind === 'sweep') {
    const rows = await ctx.prisma.sweep.updateManyAndReturn({ where: { id }, data: { note, noteUpdatedAt: now }, select: { id: true, status: true } });
    if (!rows.length) return null;
    await ctx.prisma.$queryRaw(notifySql({ kind: 'sweep', id, status: rows[0]!.status }));
  } else {
    const rows = await ctx.prisma.trial.updateManyAndReturn({ where: { id }, data: { note, noteUpdatedAt: now }, select: { id: true, sweepId: true, status: true } });
    if (!rows.length) return null;
    await ctx.prisma.$queryRaw(notifySql({ kind: 'trial', id, sweepId: rows[0]!.sweepId, status: rows[0]!.status }));
  }
  return { note, noteUpdatedAt: now };
}
