-- Sweeps that grow while they run, and a claim order that is fair across sweeps.
--
-- Sweep.grows: its trials are planned as it runs (seeds until the interval is tight), so only the
-- coordinator's growth step ends it; Sweep.extensions: what `lmsweep extend` added, and when.
-- AlterTable
ALTER TABLE "Sweep" ADD COLUMN "grows" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "extensions" JSONB NOT NULL DEFAULT '[]';

-- Trial.queueRound replaces queueSeq as the queue order: claims take the lowest round, then the
-- lowest queueSeq (the older sweep on a tie). A sweep's trials get consecutive rounds from the
-- queue's current round when they are added (TrialStore), so the running sweeps take turns, and
-- trials appended to an older sweep queue beside the later sweeps' trials instead of behind their
-- whole grids. The trials queued now get the rounds they would have had: each sweep's queued
-- trials 0, 1, 2, … in their old order; every other trial 0 (its turn is over).
-- AlterTable
ALTER TABLE "Trial" ADD COLUMN "queueRound" INTEGER NOT NULL DEFAULT 0;

UPDATE "Trial" t SET "queueRound" = o.r
FROM (
  SELECT id, (row_number() OVER (PARTITION BY "sweepId" ORDER BY "queueSeq") - 1)::int AS r
  FROM "Trial" WHERE status = 'queued'
) o
WHERE t.id = o.id;

-- The partial index claims read (first entries of the queued trials in claim order).
DROP INDEX "Trial_queued_queueSeq_idx";
CREATE INDEX "Trial_queued_queueRound_idx" ON "Trial"("queueRound", "queueSeq") WHERE "status" = 'queued';
