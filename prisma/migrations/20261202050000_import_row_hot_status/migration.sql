-- Creating (and updating) accounts marks each of a batch's rows CREATED (UPDATED, SKIPPED):
-- one new version of every row. With no index on "status" and room left in each page for that
-- version, it is a heap-only (HOT) update: written beside the old one on the same page, with
-- no entry in any index. The index on (batchId, status, rowNumber) made every one of those
-- updates a new heap tuple on another page plus an entry in both indexes (a third of the time
-- creation took on the embedded database); the chunks are row-number ranges of the primary key.
-- Fill factor 45: a row's second version (its userId set) is ~10% longer than the first, so
-- both fit in a page filled to less than half. It applies to the pages written from now on.
-- DropIndex
DROP INDEX "ImportRow_batchId_status_rowNumber_idx";

-- AlterTable
ALTER TABLE "ImportRow" SET (fillfactor = 45);
