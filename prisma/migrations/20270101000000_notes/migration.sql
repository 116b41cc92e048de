-- Notes (issue 15): a Markdown note on a sweep or a trial, written from the dashboard or
-- `lmsweep note`, and when it was last written.
ALTER TABLE "Sweep" ADD COLUMN "note" TEXT NOT NULL DEFAULT '';
ALTER TABLE "Sweep" ADD COLUMN "noteUpdatedAt" TIMESTAMP(3);
ALTER TABLE "Trial" ADD COLUMN "note" TEXT NOT NULL DEFAULT '';
ALTER TABLE "Trial" ADD COLUMN "noteUpdatedAt" TIMESTAMP(3);
