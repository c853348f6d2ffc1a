-- The next chunk of READY (or UPDATE) rows of a batch, in row order, is one range of this index
-- whatever the statistics say (it replaces the index on batchId and status, its prefix).
-- DropIndex
DROP INDEX "ImportRow_batchId_status_idx";

-- CreateIndex
CREATE INDEX "ImportRow_batchId_status_rowNumber_idx" ON "ImportRow"("batchId", "status", "rowNumber");

