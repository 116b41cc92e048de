-- When each artifact chunk was written, so the reaper can delete the chunks of uploads that were
-- never finished nor discarded (a coordinator that crashed mid-upload left up to 512 MiB behind):
-- chunks no Artifact row points at, older than any upload may last. Chunks stored before this
-- migration count from now.
-- AlterTable
ALTER TABLE "ArtifactChunk" ADD COLUMN "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE INDEX "ArtifactChunk_createdAt_idx" ON "ArtifactChunk"("createdAt");
