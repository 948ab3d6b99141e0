-- Ids that reach Discord (a card's components and footer carry its announcement id, an alert's footer its
-- alert id, both in the nonce of their post) are never handed out twice: AUTOINCREMENT keeps SQLite from
-- re-using the id of a deleted row or, after a restore, one a channel may still show. SQLite can only give
-- a table AUTOINCREMENT by rebuilding it; the sequence starts above the highest id kept.

CREATE TABLE announcements_v6 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id        INTEGER NOT NULL,
    model_id        TEXT NOT NULL,
    channel_id      INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('intended', 'posting', 'posted', 'failed')),
    message_id      INTEGER,
    revision        INTEGER NOT NULL DEFAULT 1,
    posted_revision INTEGER NOT NULL DEFAULT 0,
    removal_state   TEXT NOT NULL DEFAULT 'none' CHECK (removal_state IN ('none', 'intended', 'posting', 'posted', 'failed')),
    removal_message_id INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (guild_id, model_id)
);
INSERT INTO announcements_v6 (id, guild_id, model_id, channel_id, state, message_id, revision, posted_revision,
    removal_state, removal_message_id, attempts, last_error, created_at, updated_at)
SELECT id, guild_id, model_id, channel_id, state, message_id, revision, posted_revision,
    removal_state, removal_message_id, attempts, last_error, created_at, updated_at
FROM announcements;
DROP TABLE announcements;
ALTER TABLE announcements_v6 RENAME TO announcements;
CREATE INDEX announcements_pending ON announcements (state, posted_revision, revision);

CREATE TABLE alerts_v6 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id    INTEGER NOT NULL,
    poll_id     INTEGER NOT NULL REFERENCES polls (id),
    kind        TEXT NOT NULL CHECK (kind IN ('new', 'price', 'context', 'removed')),
    channel_id  INTEGER NOT NULL,
    lines_json  TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('intended', 'posting', 'posted', 'failed')),
    message_id  INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (guild_id, poll_id, kind)
);
INSERT INTO alerts_v6 (id, guild_id, poll_id, kind, channel_id, lines_json, state, message_id, attempts, last_error,
    created_at, updated_at)
SELECT id, guild_id, poll_id, kind, channel_id, lines_json, state, message_id, attempts, last_error,
    created_at, updated_at
FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_v6 RENAME TO alerts;
CREATE INDEX alerts_pending ON alerts (state, id);
