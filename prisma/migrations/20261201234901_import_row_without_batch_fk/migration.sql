-- DropForeignKey
ALTER TABLE "ImportRow" DROP CONSTRAINT "ImportRow_batchId_fkey";

