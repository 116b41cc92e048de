-- Claims take queued trials in queue order (sweeps by creation, then each sweep's ordinals).
-- That order as one column, filled for the trials already there and from a sequence for new
-- ones (inserted in ordinal order), with a partial index over the queued trials: a claim reads
-- the first few index entries instead of sorting every queued trial (measured on PostgreSQL at
-- 20,000 queued trials: 78 ms a claim, of which 25 ms JIT-compiling the sort, before; see
-- TrialStore.claimMany).
-- AlterTable
ALTER TABLE "Trial" ADD COLUMN "queueSeq" INTEGER;

CREATE SEQUENCE "Trial_queueSeq_seq" OWNED BY "Trial"."queueSeq";

UPDATE "Trial" t SET "queueSeq" = o.rn
FROM (
  SELECT tr.id, row_number() OVER (ORDER BY s."createdAt", s.id, tr.ordinal) AS rn
  FROM "Trial" tr JOIN "Sweep" s ON s.id = tr."sweepId"
) o
WHERE t.id = o.id;

SELECT setval('"Trial_queueSeq_seq"', COALESCE((SELECT max("queueSeq") FROM "Trial"), 0) + 1, false);

ALTER TABLE "Trial" ALTER COLUMN "queueSeq" SET DEFAULT nextval('"Trial_queueSeq_seq"'),
  ALTER COLUMN "queueSeq" SET NOT NULL;

-- CreateIndex (partial: Prisma's schema cannot state the WHERE, so it is only here)
CREATE INDEX "Trial_queued_queueSeq_idx" ON "Trial"("queueSeq") WHERE "status" = 'queued';
