-- Compression trials: a trial may start from another's checkpoint (parentId); checkpoints are kept as artifacts.
-- AlterTable
ALTER TABLE "Trial" ADD COLUMN     "parentId" TEXT;

-- CreateTable
CREATE TABLE "Artifact" (
    "trialId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "base64" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Artifact_pkey" PRIMARY KEY ("trialId","name")
);

-- CreateIndex
CREATE INDEX "Trial_parentId_idx" ON "Trial"("parentId");

-- AddForeignKey
ALTER TABLE "Trial" ADD CONSTRAINT "Trial_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Artifact" ADD CONSTRAINT "Artifact_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

