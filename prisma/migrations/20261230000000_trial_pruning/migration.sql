-- Pruning (issue 14). A trial of a pruned sweep may end pruned (stopped at a rung: a result, not a
-- failure) or wait paused at a rung with its resume checkpoint stored, until it is promoted
-- (queued again, resuming from the checkpoint) or its rung closes (then pruned).
-- The new values are not used in this migration (PostgreSQL refuses that in the transaction that adds them).
ALTER TYPE "TrialStatus" ADD VALUE 'paused';
ALTER TYPE "TrialStatus" ADD VALUE 'pruned';

-- steps: optimizer steps trained so far (set when it pauses, is pruned or succeeds); rung: the
-- highest ASHA rung it was judged at; promotions: times it was resumed; segments: the attempts
-- its curve is made of before the current one, [{ attempt, through }] (the points of `attempt`
-- up to step `through`), one per pause; verdict: the last verdict that was not `continue` (a pause
-- under way, or why it was pruned), protocol PruneVerdict.
ALTER TABLE "Trial" ADD COLUMN "steps" INTEGER;
ALTER TABLE "Trial" ADD COLUMN "rung" INTEGER;
ALTER TABLE "Trial" ADD COLUMN "promotions" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "Trial" ADD COLUMN "segments" JSONB NOT NULL DEFAULT '[]';
ALTER TABLE "Trial" ADD COLUMN "verdict" JSONB;
