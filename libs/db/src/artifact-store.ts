// Artifacts (a trial's checkpoint): an upload is written piece by piece as it arrives, fenced by
// the lease like every other write of a trial, and becomes the trial's artifact only once all its
// pieces are stored; a download reads it piece by piece. No statement and no string ever holds a
// whole checkpoint. The bytes go to the database in chunks (the embedded default), or to files in
// a directory (artifact-files.ts: shared storage on a cluster) when the store has one; each
// artifact's row says where its bytes are, so one stored either way stays readable.
import { randomBytes } from 'node:crypto';
import { Prisma, type PrismaClient } from './generated/client.ts';
import type { ArtifactFiles } from './artifact-files.ts';

/** Bytes per stored chunk unless the caller chooses (a 4 MiB chunk is a 5.6 MB base64 value). */
export const ARTIFACT_CHUNK_BYTES = 4 * 2 ** 20;

/** What is known of a stored artifact without reading its bytes. */
export interface ArtifactInfo {
  trialId: string;
  name: string;
  attempt: number;
  sha256: string;
  size: number;
  uploadId: string;
  chunks: number;
  /** Where the bytes are: chunks in the database, or a file in the artifact directory. */
  location: ArtifactLocation;
}
export type ArtifactLocation = 'database' | 'files';

/** The lease an upload is fenced by, and the upload's own id (its chunks carry it). */
export interface Upload {
  trialId: string;
  workerId: string;
  attempt: number;
  uploadId: string;
}

const ts = (d: Date) => Prisma.sql`${d}::timestamp(3)`;
const fenced = (u: Upload) => Prisma.sql`t.id = ${u.trialId} AND t."leaseOwner" = ${u.workerId} AND t.attempt = ${u.attempt}::int AND t.status = 'running'`;

/** How often the artifact directory is scanned for orphans at most. */
export const FILE_COLLECT_EVERY_MS = 60_000;

export class ArtifactStore {
  private filesCollectedAt = -Infinity;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly now: () => Date,
    /** Where new uploads go; absent: the database. */
    private readonly files: ArtifactFiles | null = null,
  ) {}

  /** Where new uploads are stored. */
  get location(): ArtifactLocation {
    return this.files ? 'files' : 'database';
  }

  /** A fresh upload of the given lease (nothing is written until its first chunk). */
  newUpload(trialId: string, workerId: string, attempt: number): Upload {
    return { trialId, workerId, attempt, uploadId: randomBytes(12).toString('base64url') };
  }

  /** Whether (worker, attempt) holds the running trial's lease: an upload is refused before its body is read otherwise. */
  async holdsLease(trialId: string, workerId: string, attempt: number): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ ok: number }[]>`SELECT 1 AS ok FROM "Trial" t WHERE ${fenced({ trialId, workerId, attempt, uploadId: '' })}`;
    return rows.length > 0;
  }

  /** Stores piece `seq` of an upload (pieces come in order). False: the lease is lost (nothing stored). */
  async putChunk(u: Upload, seq: number, data: Uint8Array): Promise<boolean> {
    if (this.files) {
      if (!(await this.holdsLease(u.trialId, u.workerId, u.attempt))) return false;
      await this.files.append(u.uploadId, seq, data);
      return true;
    }
    const b64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
    const rows = await this.prisma.$queryRaw<{ ok: number }[]>`
      INSERT INTO "ArtifactChunk" ("uploadId", seq, "trialId", base64, "createdAt")
      SELECT ${u.uploadId}, ${seq}::int, t.id, ${b64}, ${ts(this.now())} FROM "Trial" t WHERE ${fenced(u)}
      RETURNING 1 AS ok`;
    return rows.length > 0;
  }

  /**
   * Makes the upload the trial's artifact `name` (replacing an earlier attempt's or upload's, whose
   * chunks are deleted), when the lease still holds and all `chunks` pieces are stored. 'lost'
   * otherwise (nothing changes; discard the upload).
   *
   * One transaction that first locks the trial's row (FOR UPDATE), so finishes of one trial (two
   * coordinators, a retry racing its predecessor) run one after the other and each reads the
   * artifact it replaces after the one before it committed: no replaced upload's chunks are left
   * behind. The Artifact row is locked too where it exists.
   */
  async finish(u: Upload, name: string, meta: { sha256: string; size: number; chunks: number }): Promise<'ok' | 'lost'> {
    const files = this.files;
    // A file is sealed (on disk, among the objects) before the row that points at it commits.
    if (files && (await files.seal(u.uploadId)) !== meta.size) return 'lost';
    const location = this.location;
    const outcome = await this.prisma.$transaction(async (tx) => {
      const held = await tx.$queryRaw<{ id: string }[]>`SELECT t.id FROM "Trial" t WHERE ${fenced(u)} FOR UPDATE`;
      if (held.length === 0) return { ok: false as const };
      if (!files) {
        const stored = await tx.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "ArtifactChunk" WHERE "uploadId" = ${u.uploadId}`;
        if (stored[0]?.n !== meta.chunks) return { ok: false as const };
      }
      const old = await tx.$queryRaw<{ uploadId: string; location: ArtifactLocation }[]>`
        SELECT "uploadId", location FROM "Artifact" WHERE "trialId" = ${u.trialId} AND name = ${name} FOR UPDATE`;
      await tx.$executeRaw`
        INSERT INTO "Artifact" ("trialId", name, attempt, sha256, size, "uploadId", chunks, location, "createdAt")
        VALUES (${u.trialId}, ${name}, ${u.attempt}::int, ${meta.sha256}, ${meta.size}::bigint, ${u.uploadId}, ${meta.chunks}::int, ${location}, ${ts(this.now())})
        ON CONFLICT ("trialId", name) DO UPDATE SET attempt = EXCLUDED.attempt, sha256 = EXCLUDED.sha256, size = EXCLUDED.size,
          "uploadId" = EXCLUDED."uploadId", chunks = EXCLUDED.chunks, location = EXCLUDED.location, "createdAt" = EXCLUDED."createdAt"`;
      const replaced = old.filter((o) => o.uploadId !== u.uploadId);
      const inDb = replaced.filter((o) => o.location === 'database').map((o) => o.uploadId);
      if (inDb.length) await tx.$executeRaw`DELETE FROM "ArtifactChunk" WHERE "trialId" = ${u.trialId} AND "uploadId" = ANY(${inDb}::text[])`;
      return { ok: true as const, replacedFiles: replaced.filter((o) => o.location === 'files').map((o) => o.uploadId) };
    });
    if (!outcome.ok) return 'lost';
    // Replaced files go once nothing points at them (a reader that has one open reads on); one
    // that cannot be deleted now is the collector's later, never a reason to call this upload failed.
    for (const id of outcome.replacedFiles) await this.files?.remove(id).catch(() => undefined);
    return 'ok';
  }

  /**
   * Deletes the chunks no artifact points at that were written more than `olderThanMs` ago (by the
   * store's clock): uploads that were neither finished nor discarded (the coordinator died
   * mid-upload). `olderThanMs` must exceed the longest an upload may last, or a live upload's
   * chunks go. Returns how many chunks were deleted.
   */
  async collectOrphans(olderThanMs: number): Promise<number> {
    const cutoff = new Date(this.now().getTime() - olderThanMs);
    const chunks = await this.prisma.$executeRaw`
      DELETE FROM "ArtifactChunk" c
      WHERE c."createdAt" < ${ts(cutoff)}
        AND NOT EXISTS (SELECT 1 FROM "Artifact" a WHERE a."trialId" = c."trialId" AND a."uploadId" = c."uploadId")`;
    // Files: by their last write on the file system's clock (the files of a cluster's shared store).
    // Files: by their last write on the file system's clock, every FILE_COLLECT_EVERY_MS at most
    // (a scan of the directory, where the database's chunks are one indexed statement).
    let files = 0;
    if (this.files && Date.now() - this.filesCollectedAt >= FILE_COLLECT_EVERY_MS) {
      this.filesCollectedAt = Date.now();
      files = await this.files.collect(olderThanMs, (ids) => this.referencedFiles(ids));
    }
    return chunks + files;
  }

  /** Which of these uploads an artifact row points at (in batches: a directory may hold many). */
  private async referencedFiles(ids: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await this.prisma.artifact.findMany({ where: { uploadId: { in: ids.slice(i, i + 1000) }, location: 'files' }, select: { uploadId: true } });
      for (const r of rows) out.add(r.uploadId);
    }
    return out;
  }

  /**
   * Deletes what an upload that will not be finished (refused, cut short, lease lost) stored; a
   * file a committed row points at stays (an error after the commit is no reason to lose it).
   */
  async discard(u: Upload): Promise<void> {
    if (this.files) {
      if (!(await this.referencedFiles([u.uploadId])).has(u.uploadId)) await this.files.remove(u.uploadId);
    } else await this.prisma.$executeRaw`DELETE FROM "ArtifactChunk" WHERE "uploadId" = ${u.uploadId}`;
  }

  async info(trialId: string, name: string): Promise<ArtifactInfo | null> {
    const a = await this.prisma.artifact.findUnique({ where: { trialId_name: { trialId, name } } });
    return a && { trialId: a.trialId, name: a.name, attempt: a.attempt, sha256: a.sha256, size: Number(a.size), uploadId: a.uploadId, chunks: a.chunks, location: a.location as ArtifactLocation };
  }

  /**
   * The artifact's bytes, one stored chunk at a time. Throws when a chunk is gone (the artifact
   * was replaced while being read).
   */
  async *read(a: ArtifactInfo): AsyncGenerator<Uint8Array> {
    if (a.location === 'files') {
      if (!this.files) throw new Error(`artifact "${a.name}" of trial ${a.trialId} is in an artifact directory, and this coordinator has none (start it with --artifacts DIR)`);
      yield* this.files.read(a.uploadId, a.size, ARTIFACT_CHUNK_BYTES);
      return;
    }
    for (let seq = 0; seq < a.chunks; seq++) {
      const row = await this.prisma.artifactChunk.findUnique({ where: { uploadId_seq: { uploadId: a.uploadId, seq } }, select: { base64: true } });
      if (!row) throw new Error(`artifact "${a.name}" of trial ${a.trialId}: chunk ${seq} of ${a.chunks} is gone (replaced while being read)`);
      yield new Uint8Array(Buffer.from(row.base64, 'base64'));
    }
  }
}
