-- A sampled sweep's search state (protocol SearchState): the configurations its sampler chose,
-- oldest first, with their points, and the points it drew and could not queue, by reason. Written
-- under the sweep's lock with the trials each growth step appends; null for a grid sweep.
-- AlterTable
ALTER TABLE "Sweep" ADD COLUMN "search" JSONB;
