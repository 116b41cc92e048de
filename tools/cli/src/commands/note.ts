// lmsweep note ID [--set TEXT | --file PATH | --clear]: the Markdown note of a sweep (s_…) or a
// trial (t_…), as the dashboard shows it; with an option, writes it.
import { readFileSync } from 'node:fs';
import { defineCommand } from '../command.ts';
import { UsageError } from '../options.ts';
import { apiOptions, jsonOption } from './shared.ts';

export const noteCommand = defineCommand({
  name: 'note',
  summary: "print or write the Markdown note of a sweep or a trial (the dashboard's Notes)",
  description: 'Prints the note of a sweep (an id starting s_) or a trial (t_) and when it was written; --set, --file or --clear replaces it (needs the API token when the coordinator has one).',
  args: [{ name: 'ID', description: 'a sweep or trial id (lmsweep sweeps, lmsweep trials)', required: true }],
  options: {
    ...apiOptions,
    set: { type: 'string', value: 'TEXT', description: 'write this note (Markdown)' },
    file: { type: 'string', value: 'PATH', description: 'write the note read from this file' },
    clear: { type: 'boolean', description: 'remove the note' },
    json: { ...jsonOption, description: 'print the note as one JSON object (id, note, noteUpdatedAt)' },
  },
  async run({ values, positionals, out }) {
    const id = positionals[0]!;
    const kind = id.startsWith('s_') ? 'sweep' : id.startsWith('t_') ? 'trial' : null;
    if (!kind) throw new UsageError(`ID: "${id}" is neither a sweep id (s_…) nor a trial id (t_…)`);
    const given = [values.set !== undefined, values.file !== undefined, values.clear === true].filter(Boolean).length;
    if (given > 1) throw new UsageError('--set, --file and --clear: give one');
    let write: string | undefined;
    if (values.set !== undefined) write = values.set;
    if (values.clear) write = '';
    if (values.file !== undefined) {
      try {
        write = readFileSync(values.file, 'utf8');
      } catch (e) {
        throw new UsageError(`--file: cannot read ${values.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    const { apiClient } = await import('../client.ts');
    const api = apiClient(values.coordinator, values.token);
    let note: { note: string; noteUpdatedAt: Date | string | null };
    if (write !== undefined) note = kind === 'sweep' ? await api.sweeps.setNote.mutate({ id, note: write }) : await api.trials.setNote.mutate({ id, note: write });
    else note = kind === 'sweep' ? await api.sweeps.get.query({ id }) : await api.trials.get.query({ id, points: 4 });
    const at = note.noteUpdatedAt ? new Date(note.noteUpdatedAt).toISOString() : null;
    if (values.json) out(JSON.stringify({ id, note: note.note, noteUpdatedAt: at }));
    else if (!note.note) out(`(no note on ${kind} ${id})`);
    else out(`${note.note.replace(/\n+$/, '')}\n\n— written ${at!.replace('T', ' ').slice(0, 19)} UTC`);
    return 0;
  },
});
