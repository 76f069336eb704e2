-- Each response kept for an Idempotency-Key retry names the household file it concerns, so that
-- erasing the household's personal data deletes its kept responses by this column
-- (adapters/pg/idempotency.py `delete_file`) instead of searching the stored bytes for the id.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS file_id uuid;
CREATE INDEX IF NOT EXISTS idempotency_keys_file ON idempotency_keys (file_id)
    WHERE file_id IS NOT NULL;

-- Responses kept before this migration: the only routes that keep responses are the commands on
-- household files (POST /api/v1/files and /api/v1/files/{id}/…), and each keeps the file as
-- JSON, whose "id" is the file's id; filled from there. A row whose body holds no such id would
-- keep file_id NULL, out of any erasure's reach; none is expected (a claim commits only with its
-- response, and every kept response is a file's).
UPDATE idempotency_keys AS k
   SET file_id = (kept.body_json ->> 'id')::uuid
  FROM (SELECT principal, key, convert_from(body, 'UTF8')::jsonb AS body_json
          FROM idempotency_keys
         WHERE file_id IS NULL AND status IS NOT NULL AND body IS NOT NULL) AS kept
 WHERE k.principal = kept.principal AND k.key = kept.key
   AND jsonb_typeof(kept.body_json) = 'object'
   AND kept.body_json ->> 'id'
       ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
