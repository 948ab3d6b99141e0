-- Removal needs confirmation: how many successful polls in a row a model has been missing, and since when.
ALTER TABLE models ADD COLUMN missing_polls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE models ADD COLUMN missing_since TEXT;

-- What each guild wants to hear about (see bot/alerts.py). A guild without a row gets the defaults:
-- new stealth models announced, nothing else. `paused` turns every announcement off and keeps all data.
CREATE TABLE guild_alerts (
    guild_id    INTEGER PRIMARY KEY,
    paused      INTEGER NOT NULL DEFAULT 0,
    stealth     INTEGER NOT NULL DEFAULT 1,
    new_models  INTEGER NOT NULL DEFAULT 0,
    free_only   INTEGER NOT NULL DEFAULT 0,
    namespaces  TEXT NOT NULL DEFAULT '[]',
    modalities  TEXT NOT NULL DEFAULT '[]',
    prices      INTEGER NOT NULL DEFAULT 0,
    context     INTEGER NOT NULL DEFAULT 0,
    watched     TEXT NOT NULL DEFAULT '[]',
    removals    INTEGER NOT NULL DEFAULT 0,
    role_id     INTEGER,
    updated_at  TEXT NOT NULL
);

-- The alerts outbox: one grouped message per guild, poll and kind, written in the poll's own transaction
-- and posted like announcements (intended -> posting -> posted, or failed).
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
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
CREATE INDEX alerts_pending ON alerts (state, id);
