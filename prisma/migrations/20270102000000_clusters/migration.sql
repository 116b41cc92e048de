-- Clusters (issue 17): the job a worker started by Slurm runs in, and the job arrays of workers
-- `lmsweep slurm submit` submitted; artifacts stored as files in an artifact directory, and sizes
-- past 2 GiB.
ALTER TABLE "Worker" ADD COLUMN "slurmJob" TEXT;

CREATE TABLE "SlurmJob" (
    "id" TEXT NOT NULL,
    "workers" INTEGER NOT NULL,
    "partition" TEXT,
    "account" TEXT,
    "timeLimit" TEXT,
    "cpusPerWorker" INTEGER,
    "gpusPerWorker" INTEGER,
    "logDir" TEXT NOT NULL,
    "submittedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "cancelledAt" TIMESTAMP(3),

    CONSTRAINT "SlurmJob_pkey" PRIMARY KEY ("id")
);

ALTER TABLE "Artifact" ADD COLUMN "location" TEXT NOT NULL DEFAULT 'database';
ALTER TABLE "Artifact" ALTER COLUMN "size" TYPE BIGINT;
