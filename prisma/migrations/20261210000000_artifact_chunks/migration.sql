-- Artifacts stored in chunks (base64 text of at most a few MiB each, one row per chunk) instead
-- of one base64 value: an upload is written as it streams in and a download read chunk by chunk,
-- so neither side holds a whole checkpoint as one string (a single value of a 400 MiB
-- checkpoint passed V8's string limit, and every byte cost ~17 bytes of coordinator memory on
-- the way through the driver). An upload's chunks carry its uploadId; finishing it points the
-- Artifact row at them and deletes the chunks of the upload it replaces.
-- CreateTable
CREATE TABLE "ArtifactChunk" (
    "uploadId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "trialId" TEXT NOT NULL,
    "base64" TEXT NOT NULL,

    CONSTRAINT "ArtifactChunk_pkey" PRIMARY KEY ("uploadId","seq")
);

-- CreateIndex
CREATE INDEX "ArtifactChunk_trialId_idx" ON "ArtifactChunk"("trialId");

-- AddForeignKey
ALTER TABLE "ArtifactChunk" ADD CONSTRAINT "ArtifactChunk_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AlterTable: the artifacts already stored become uploads of one chunk each
ALTER TABLE "Artifact" ADD COLUMN "uploadId" TEXT,
ADD COLUMN "chunks" INTEGER NOT NULL DEFAULT 1;

UPDATE "Artifact" SET "uploadId" = 'legacy-' || "trialId" || '-' || "name";

INSERT INTO "ArtifactChunk" ("uploadId", "seq", "trialId", "base64")
SELECT "uploadId", 0, "trialId", "base64" FROM "Artifact";

ALTER TABLE "Artifact" ALTER COLUMN "uploadId" SET NOT NULL,
ALTER COLUMN "chunks" DROP DEFAULT,
DROP COLUMN "base64";
