-- Workers get a secret key in their first welcome; reconnecting under a worker id needs it.
-- AlterTable
ALTER TABLE "Worker" ADD COLUMN     "keyHash" TEXT;

