-- AlterTable
ALTER TABLE "ImportBatch" ADD COLUMN     "submitterEmail" TEXT,
ADD COLUMN     "submitterPlatformId" TEXT;


-- Hand-written: batches submitted before this migration learn who clicked Create from the
-- audit trail (import.approval_requested / import.submit, recorded with the submit), so a
-- request already waiting refuses its Create clicker too.
UPDATE "ImportBatch" b
SET "submitterEmail" = lower(trim(a."actor")), "submitterPlatformId" = a."details"->>'platformUserId'
FROM "AuditEvent" a
WHERE b."submitterEmail" IS NULL
  AND a."subject" = 'import:' || b."code"
  AND a."action" IN ('import.approval_requested', 'import.submit');
