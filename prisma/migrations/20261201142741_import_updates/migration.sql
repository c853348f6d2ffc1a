-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "ImportRowStatus" ADD VALUE 'UPDATE';
ALTER TYPE "ImportRowStatus" ADD VALUE 'UNCHANGED';
ALTER TYPE "ImportRowStatus" ADD VALUE 'UPDATED';

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "roleSince" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- AlterTable
ALTER TABLE "ImportBatch" ADD COLUMN     "adminUpdateRows" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "approvalRemindedAt" TIMESTAMP(3),
ADD COLUMN     "includeUpdates" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'import',
ADD COLUMN     "unchangedRows" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "updateRows" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "updatedRows" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "ImportRow" ADD COLUMN     "changes" JSONB;


-- Hand-written: users had their role since they were created (the closest fact there is).
UPDATE "User" SET "roleSince" = "createdAt";
