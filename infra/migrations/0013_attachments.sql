-- Proof materials as files (docs/decisions/0011-attachments.md).
--
-- An attachment's content is kept apart from the events, in chunks of at most 1 MiB, each sealed
-- (AES-GCM) with the household's own data key (`personal_keys`): destroying the key on erasure
-- shreds the content with the rest of the household's personal data. The event
-- `household.attachment_added` carries the SHA-256 of the content as uploaded, in the hash chain;
-- `attachments` repeats size and chunk count so a reader knows where the content ends.
--
-- Content rows are written in the same transaction as the event that records them: an upload
-- that fails or is cut off leaves nothing behind.
CREATE TABLE IF NOT EXISTS attachments (
    attachment_id  uuid        PRIMARY KEY,
    stream_id      uuid        NOT NULL,
    size           bigint      NOT NULL CHECK (size > 0),
    chunks         integer     NOT NULL CHECK (chunks > 0),
    sha256         bytea       NOT NULL CHECK (length(sha256) = 32),
    stored_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS attachments_stream ON attachments (stream_id);

CREATE TABLE IF NOT EXISTS attachment_chunks (
    attachment_id  uuid     NOT NULL REFERENCES attachments (attachment_id) ON DELETE CASCADE
                            DEFERRABLE INITIALLY DEFERRED,
    seq            integer  NOT NULL CHECK (seq >= 0),
    sealed         bytea    NOT NULL,
    PRIMARY KEY (attachment_id, seq)
);
-- Sealed content does not compress: store it out of line without trying.
ALTER TABLE attachment_chunks ALTER COLUMN sealed SET STORAGE EXTERNAL;

GRANT SELECT, INSERT, UPDATE, DELETE ON attachments, attachment_chunks TO bangfu_app;
