-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "SweepStatus" AS ENUM ('running', 'succeeded', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "TrialStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "Sweep" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "specText" TEXT NOT NULL,
    "status" "SweepStatus" NOT NULL DEFAULT 'running',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Trial" (
    "id" TEXT NOT NULL,
    "sweepId" TEXT NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "configKey" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "method" TEXT NOT NULL,
    "seed" INTEGER NOT NULL,
    "status" "TrialStatus" NOT NULL DEFAULT 'queued',
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL DEFAULT 3,
    "leaseOwner" TEXT,
    "leaseExpiresAt" TIMESTAMP(3),
    "notBefore" TIMESTAMP(3),
    "progress" DOUBLE PRECISION,
    "params" INTEGER,
    "validPpl" DOUBLE PRECISION,
    "testPpl" DOUBLE PRECISION,
    "result" JSONB,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "seconds" DOUBLE PRECISION,

    CONSTRAINT "Trial_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TrialMetric" (
    "id" BIGSERIAL NOT NULL,
    "trialId" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "epoch" DOUBLE PRECISION NOT NULL,
    "name" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "time" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TrialMetric_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Worker" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "backend" TEXT NOT NULL,
    "device" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "connected" BOOLEAN NOT NULL DEFAULT true,
    "connectedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastHeartbeat" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "currentTrialId" TEXT,
    "progress" DOUBLE PRECISION,

    CONSTRAINT "Worker_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Trial_status_notBefore_idx" ON "Trial"("status", "notBefore");

-- CreateIndex
CREATE INDEX "Trial_sweepId_status_idx" ON "Trial"("sweepId", "status");

-- CreateIndex
CREATE INDEX "Trial_leaseExpiresAt_idx" ON "Trial"("leaseExpiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "Trial_sweepId_ordinal_key" ON "Trial"("sweepId", "ordinal");

-- CreateIndex
CREATE INDEX "TrialMetric_trialId_attempt_idx" ON "TrialMetric"("trialId", "attempt");

-- CreateIndex
CREATE UNIQUE INDEX "TrialMetric_trialId_attempt_name_step_key" ON "TrialMetric"("trialId", "attempt", "name", "step");

-- AddForeignKey
ALTER TABLE "Trial" ADD CONSTRAINT "Trial_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TrialMetric" ADD CONSTRAINT "TrialMetric_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

