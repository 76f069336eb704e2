-- Regional parameters live in one stream per region (`domain.policy`): a spot-check loads them
-- all. This small partial index finds their events without reading the whole log.
CREATE INDEX IF NOT EXISTS events_policies ON events (stream_id, version)
    WHERE type LIKE 'policy.%';
