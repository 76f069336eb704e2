-- A union's own records — its 民主评议 meetings and 考核表 (`domain.unit_records`) — live in one
-- stream per unit. A unit form of a subtree (a district's 民主评议会议记录) reads the streams of
-- every union below it: this small partial index finds their events by unit without reading the
-- whole log.
CREATE INDEX IF NOT EXISTS events_unit_records ON events (unit text_pattern_ops, stream_id, version)
    WHERE type LIKE 'unit.%';
