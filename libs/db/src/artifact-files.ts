// Artifact bytes as files in a directory (a shared path such as NFS or Lustre on a cluster): an
// upload is appended to uploads/<uploadId> piece by piece, sealed (fsync, then an atomic rename to
// objects/<uploadId>) before the database makes it the trial's artifact, and streamed back from
// there. File names are the store's own random upload ids, never a trial id or name from a request.
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

const SAFE_ID = /^[A-Za-z0-9_-]{8,64}$/;

export class ArtifactFiles {
  readonly uploads: string;
  readonly objects: string;

  constructor(readonly dir: string) {
    this.uploads = path.join(dir, 'uploads');
    this.objects = path.join(dir, 'objects');
  }

  /**
   * Creates the directory's folders (readable by this user only, like the files: checkpoints on
   * shared storage are nobody else's); throws, naming the path, when it cannot be written.
   */
  async init(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await mkdir(this.uploads, { recursive: true, mode: 0o700 });
      await mkdir(this.objects, { recursive: true, mode: 0o700 });
      await rm(await this.probe());
    } catch (e) {
      throw new Error(`artifact directory ${this.dir}: ${(e as Error).message}`);
    }
  }

  /** A file written just now: its mtime is the file system's clock (a file server's, on NFS), not this host's. */
  private async probe(): Promise<string> {
    const probe = path.join(this.uploads, `.probe-${process.pid}`);
    await writeFile(probe, '', { mode: 0o600 });
    return probe;
  }

  private file(folder: string, uploadId: string): string {
    if (!SAFE_ID.test(uploadId)) throw new Error(`not an upload id: ${JSON.stringify(uploadId)}`);
    return path.join(folder, uploadId);
  }

  /** Appends piece `seq` (0 creates the file: an upload id is never reused). */
  async append(uploadId: string, seq: number, data: Uint8Array): Promise<void> {
    const f = this.file(this.uploads, uploadId);
    if (seq === 0) await writeFile(f, data, { flag: 'wx', mode: 0o600 });
    else await appendFile(f, data);
  }

  /** Flushes the upload to disk and moves it among the stored objects, the move flushed too; its size. */
  async seal(uploadId: string): Promise<number> {
    const from = this.file(this.uploads, uploadId);
    await sync(from, 'r+');
    const to = this.file(this.objects, uploadId);
    await rename(from, to);
    // The rename is in the folder: flushed, so a row that commits next never names a file a crash lost.
    await sync(this.objects, 'r');
    return (await stat(to)).size;
  }

  /** Deletes an upload's file, sealed or not (absent is fine). */
  async remove(uploadId: string): Promise<void> {
    await rm(this.file(this.uploads, uploadId), { force: true });
    await rm(this.file(this.objects, uploadId), { force: true });
  }

  /** The bytes of a sealed upload, `pieceBytes` at a time; throws when the file is not `size` bytes. */
  async *read(uploadId: string, size: number, pieceBytes: number): AsyncGenerator<Uint8Array> {
    let got = 0;
    for await (const piece of createReadStream(this.file(this.objects, uploadId), { highWaterMark: pieceBytes }) as AsyncIterable<Buffer>) {
      got += piece.length;
      yield new Uint8Array(piece.buffer, piece.byteOffset, piece.length);
    }
    if (got !== size) throw new Error(`artifact file ${uploadId}: ${got} bytes on disk, ${size} recorded`);
  }

  /**
   * Deletes files last written more than `olderThanMs` ago that `referenced` does not name: uploads a crashed
   * coordinator never finished, objects whose artifact was replaced or whose trial is gone.
   * Returns how many went.
   */
  async collect(olderThanMs: number, referenced: (uploadIds: string[]) => Promise<Set<string>>): Promise<number> {
    // "Now" is the file system's: mtimes on a file server follow its clock, not this host's.
    const probe = await this.probe();
    const cutoff = new Date((await stat(probe)).mtime.getTime() - olderThanMs);
    await rm(probe, { force: true });
    const old: string[] = [];
    for (const folder of [this.uploads, this.objects]) {
      for (const name of await readdir(folder).catch(() => [] as string[])) {
        if (!SAFE_ID.test(name)) continue;
        const s = await stat(path.join(folder, name)).catch(() => null);
        if (s && s.mtime < cutoff) old.push(name);
      }
    }
    if (!old.length) return 0;
    const keep = await referenced(old);
    let n = 0;
    for (const id of old) {
      if (keep.has(id)) continue;
      await this.remove(id);
      n++;
    }
    return n;
  }
}

async function sync(file: string, flags: 'r' | 'r+'): Promise<void> {
  const h = await open(file, flags);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
