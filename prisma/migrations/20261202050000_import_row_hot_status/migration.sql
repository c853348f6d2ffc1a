-- Creating (and updating) accounts marks each of a batch's rows CREATED (UPDATED, SKIPPED):
-- one new version of every row. With no index on "status" it may be a heap-only (HOT) update,
-- with no entry in any index; the chunks are row-number ranges of the primary key. The index
-- on (batchId, status, rowNumber) made every one of those updates an entry in both indexes.
-- DropIndex
DROP INDEX "ImportRow_batchId_status_rowNumber_idx";

-- A HOT update also needs room for the new version on the old one's page. On the embedded
-- database (PGlite), fill factor 45 leaves it (a row's second version, its userId set, is ~10%
-- longer than the first): creation took ~20% less time there. On PostgreSQL the halved pages
-- cost staging more than they saved creation (measured through the bot), so its default stays.
DO $$
BEGIN
  IF version() LIKE '%emscripten%' THEN
    ALTER TABLE "ImportRow" SET (fillfactor = 45);
  END IF;
END $$;
