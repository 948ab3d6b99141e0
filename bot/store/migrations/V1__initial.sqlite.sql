-- Model Scout schema, version 1. Times are ISO-8601 UTC text; JSON columns hold compact JSON.

CREATE TABLE models (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    vendor          TEXT,
    created         INTEGER,
    first_seen      TEXT NOT NULL,
    last_seen       TEXT NOT NULL,
    removed_at      TEXT,
    raw_json        TEXT NOT NULL,
    tracked_json    TEXT NOT NULL,
    stealth         INTEGER NOT NULL DEFAULT 0,
    stealth_score   REAL NOT NULL DEFAULT 0,
    stealth_reasons TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX models_stealth ON models (stealth, removed_at);

CREATE TABLE polls (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    source      TEXT NOT NULL,
    ok          INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    listed      INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    events      INTEGER NOT NULL DEFAULT 0,
    baseline    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE catalogue_events (
    id           INTEGER PRIMARY KEY,
    poll_id      INTEGER NOT NULL REFERENCES polls (id),
    model_id     TEXT NOT NULL REFERENCES models (id),
    kind         TEXT NOT NULL CHECK (kind IN ('new', 'changed', 'removed', 'returned')),
    at           TEXT NOT NULL,
    details_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX catalogue_events_model ON catalogue_events (model_id, id);

CREATE TABLE probe_runs (
    id                INTEGER PRIMARY KEY,
    model_id          TEXT NOT NULL,
    suite_version     TEXT NOT NULL,
    purpose           TEXT NOT NULL CHECK (purpose IN ('stealth', 'reference', 'manual')),
    state             TEXT NOT NULL CHECK (state IN ('running', 'finished', 'abandoned')),
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    requests          INTEGER NOT NULL DEFAULT 0,
    failures          INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX probe_runs_model ON probe_runs (model_id, id);

CREATE TABLE probe_responses (
    id                INTEGER PRIMARY KEY,
    run_id            INTEGER NOT NULL REFERENCES probe_runs (id) ON DELETE CASCADE,
    probe_id          TEXT NOT NULL,
    kind              TEXT NOT NULL,
    request_json      TEXT NOT NULL,
    ok                INTEGER NOT NULL,
    error_kind        TEXT,
    error             TEXT,
    content           TEXT,
    reasoning         TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    latency_s         REAL,
    raw_json          TEXT,
    at                TEXT NOT NULL,
    UNIQUE (run_id, probe_id)
);

-- A known model's fingerprint: answers (and token counts) per probe, from a probe run or an imported corpus.
CREATE TABLE reference_models (
    id            INTEGER PRIMARY KEY,
    model_id      TEXT NOT NULL,
    vendor        TEXT NOT NULL,
    source        TEXT NOT NULL,
    suite_version TEXT NOT NULL,
    run_id        INTEGER REFERENCES probe_runs (id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (model_id, source, suite_version)
);

CREATE TABLE reference_answers (
    reference_id  INTEGER NOT NULL REFERENCES reference_models (id) ON DELETE CASCADE,
    probe_id      TEXT NOT NULL,
    content       TEXT,
    prompt_tokens INTEGER,
    PRIMARY KEY (reference_id, probe_id)
);

CREATE TABLE guesses (
    id           INTEGER PRIMARY KEY,
    model_id     TEXT NOT NULL,
    run_id       INTEGER REFERENCES probe_runs (id),
    created_at   TEXT NOT NULL,
    top_vendor   TEXT,
    confidence   REAL NOT NULL,
    ranking_json TEXT NOT NULL,
    evidence_json TEXT NOT NULL
);
CREATE INDEX guesses_model ON guesses (model_id, id);

CREATE TABLE guild_settings (
    guild_id     INTEGER PRIMARY KEY,
    channel_id   INTEGER,
    all_models   INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    last_error_at TEXT,
    updated_at   TEXT NOT NULL
);

-- The current vote of each member on each model, per guild; every cast is also kept in vote_history.
CREATE TABLE votes (
    guild_id    INTEGER NOT NULL,
    model_id    TEXT NOT NULL,
    member_id   INTEGER NOT NULL,
    member_name TEXT NOT NULL,
    vendor      TEXT NOT NULL,
    voted_at    TEXT NOT NULL,
    PRIMARY KEY (guild_id, model_id, member_id)
);

CREATE TABLE vote_history (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    model_id    TEXT NOT NULL,
    member_id   INTEGER NOT NULL,
    member_name TEXT NOT NULL,
    vendor      TEXT NOT NULL,
    voted_at    TEXT NOT NULL
);
CREATE INDEX vote_history_guild ON vote_history (guild_id, id);

CREATE TABLE notes (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    model_id    TEXT NOT NULL,
    member_id   INTEGER NOT NULL,
    member_name TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX notes_guild ON notes (guild_id, id);

CREATE TABLE reveals (
    guild_id    INTEGER NOT NULL,
    model_id    TEXT NOT NULL,
    vendor      TEXT NOT NULL,
    true_model  TEXT,
    revealed_by INTEGER,
    revealed_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, model_id)
);

-- The outbox: one row per guild and model, created before anything is posted, so a crash never doubles
-- an announcement. `revision` grows when there is something new to show; `posted_revision` is what the
-- message shows.
CREATE TABLE announcements (
    id              INTEGER PRIMARY KEY,
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
CREATE INDEX announcements_pending ON announcements (state, posted_revision, revision);

CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
