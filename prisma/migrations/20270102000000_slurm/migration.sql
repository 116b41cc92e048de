-- Slurm (issue 17): the job a worker started by Slurm runs in, and the job arrays of workers
-- `lmsweep slurm submit` submitted.
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
