-- CreateEnum
CREATE TYPE "ImportStatus" AS ENUM ('VALIDATED', 'AWAITING_APPROVAL', 'APPROVED', 'CREATING', 'CREATED', 'INVITING', 'FINISHED', 'CANCELLED', 'REJECTED', 'EXPIRED', 'FAILED');

-- CreateEnum
CREATE TYPE "ImportRowStatus" AS ENUM ('READY', 'NEEDS_ATTENTION', 'CREATED', 'SKIPPED', 'FAILED');

-- CreateEnum
CREATE TYPE "InvitationStatus" AS ENUM ('PENDING', 'SENT', 'FAILED');

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "importBatchId" UUID;

-- CreateTable
CREATE TABLE "ImportBatch" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "code" TEXT NOT NULL,
    "fileName" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "requesterEmail" TEXT NOT NULL,
    "requesterPlatformId" TEXT,
    "platform" TEXT NOT NULL,
    "conversation" JSONB NOT NULL DEFAULT '{}',
    "fileInfo" JSONB NOT NULL DEFAULT '{}',
    "status" "ImportStatus" NOT NULL DEFAULT 'VALIDATED',
    "approvalRequired" BOOLEAN NOT NULL DEFAULT true,
    "dataRows" INTEGER NOT NULL DEFAULT 0,
    "readyRows" INTEGER NOT NULL DEFAULT 0,
    "attentionRows" INTEGER NOT NULL DEFAULT 0,
    "blankRows" INTEGER NOT NULL DEFAULT 0,
    "adminRows" INTEGER NOT NULL DEFAULT 0,
    "createdRows" INTEGER NOT NULL DEFAULT 0,
    "skippedRows" INTEGER NOT NULL DEFAULT 0,
    "failedRows" INTEGER NOT NULL DEFAULT 0,
    "approvalRequestedAt" TIMESTAMP(3),
    "approvalExpiresAt" TIMESTAMP(3),
    "decidedBy" TEXT,
    "decidedAt" TIMESTAMP(3),
    "reason" TEXT,
    "leaseOwner" TEXT,
    "leaseUntil" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ImportBatch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ImportRow" (
    "batchId" UUID NOT NULL,
    "rowNumber" INTEGER NOT NULL,
    "status" "ImportRowStatus" NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "groupName" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "exchangeDomain" TEXT NOT NULL,
    "exchangeUsername" TEXT NOT NULL,
    "groupId" UUID,
    "issues" JSONB NOT NULL DEFAULT '[]',
    "userId" UUID,

    CONSTRAINT "ImportRow_pkey" PRIMARY KEY ("batchId","rowNumber")
);

-- CreateTable
CREATE TABLE "Invitation" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "userId" UUID NOT NULL,
    "batchId" UUID,
    "token" TEXT NOT NULL,
    "status" "InvitationStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimedUntil" TIMESTAMP(3),
    "sentAt" TIMESTAMP(3),
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Invitation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ImportBatch_code_key" ON "ImportBatch"("code");

-- CreateIndex
CREATE INDEX "ImportBatch_requesterEmail_sha256_idx" ON "ImportBatch"("requesterEmail", "sha256");

-- CreateIndex
CREATE INDEX "ImportBatch_status_idx" ON "ImportBatch"("status");

-- CreateIndex
CREATE INDEX "ImportRow_batchId_status_idx" ON "ImportRow"("batchId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "Invitation_userId_key" ON "Invitation"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Invitation_token_key" ON "Invitation"("token");

-- CreateIndex
CREATE INDEX "Invitation_status_nextAttemptAt_idx" ON "Invitation"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "Invitation_batchId_idx" ON "Invitation"("batchId");

-- CreateIndex
CREATE INDEX "User_importBatchId_idx" ON "User"("importBatchId");

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_importBatchId_fkey" FOREIGN KEY ("importBatchId") REFERENCES "ImportBatch"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ImportRow" ADD CONSTRAINT "ImportRow_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "ImportBatch"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Invitation" ADD CONSTRAINT "Invitation_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Invitation" ADD CONSTRAINT "Invitation_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "ImportBatch"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- Hand-written: one open batch per requester and file content, so the same file uploaded
-- twice (even at once) returns the open batch instead of making a second one.
CREATE UNIQUE INDEX "ImportBatch_open_file_key" ON "ImportBatch" ("requesterEmail", "sha256")
  WHERE "status" NOT IN ('FINISHED', 'CANCELLED', 'REJECTED', 'EXPIRED', 'FAILED');
