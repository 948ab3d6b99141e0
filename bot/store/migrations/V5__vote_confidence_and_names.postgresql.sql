-- PostgreSQL's V5__vote_confidence_and_names: the SQLite file's statements with PostgreSQL's types (BIGINT for Discord ids and
-- counters, DOUBLE PRECISION for REAL, identity columns for INTEGER PRIMARY KEY ids).
-- Members state an optional confidence (0-1) in their pick; a freely typed vendor keeps the name it was typed
-- with ("Totally Unknown Lab"), beside its key. NULL names (older rows) show the vendor table's name.
ALTER TABLE votes ADD COLUMN vendor_name TEXT;
ALTER TABLE votes ADD COLUMN confidence DOUBLE PRECISION CHECK (confidence BETWEEN 0 AND 1);
ALTER TABLE vote_history ADD COLUMN vendor_name TEXT;
ALTER TABLE vote_history ADD COLUMN confidence DOUBLE PRECISION CHECK (confidence BETWEEN 0 AND 1);
ALTER TABLE reveals ADD COLUMN vendor_name TEXT;

-- A member's data in a guild is found (exported, forgotten) without scanning the guild's whole log.
CREATE INDEX votes_member ON votes (guild_id, member_id);
CREATE INDEX vote_history_member ON vote_history (guild_id, member_id, id);
CREATE INDEX notes_member ON notes (guild_id, member_id, id);
