-- A succeeded trial whose result looks impossible next to its configuration's other seeds is
-- stored but flagged, with the reason (TrialStore.completeMany sets it; the leaderboard keeps
-- flagged seeds out of a configuration's mean and lists them apart).
-- AlterTable
ALTER TABLE "Trial" ADD COLUMN "flag" TEXT;
