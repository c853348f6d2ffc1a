-- A batch's messages are now recorded per platform as { place, summary, approval }, merged
-- per platform (the chat layer). Rewrite the Slack records written before, so that open
-- imports keep their buttons and background updates: channel/threadTs/summaryTs/approvalTs
-- become place / summary / approval references.
UPDATE "ImportBatch" b
SET "conversation" = jsonb_set(b."conversation", '{slack}', jsonb_strip_nulls(jsonb_build_object(
  'place', jsonb_strip_nulls(jsonb_build_object('team', s->'team', 'channel', s->'channel', 'threadTs', s->'threadTs')),
  'summary', CASE WHEN s ? 'summaryTs' THEN jsonb_build_object('channel', s->'channel', 'ts', s->'summaryTs') END,
  'approval', CASE WHEN s ? 'approvalTs' THEN jsonb_build_object('channel', coalesce(s->'approvalChannel', s->'channel'), 'ts', s->'approvalTs') END
)))
FROM (SELECT "id", "conversation"->'slack' AS s FROM "ImportBatch") old
WHERE old."id" = b."id" AND jsonb_typeof(old.s) = 'object' AND NOT (old.s ? 'place') AND old.s ? 'channel';
