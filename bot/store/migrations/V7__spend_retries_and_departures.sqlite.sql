-- Version 7: what the bot spends, what it retries after an outage, and which guilds it left.

-- A card a moderator deleted is posted again once (REPOST_DELETED_CARDS); this counts how often it was.
ALTER TABLE announcements ADD COLUMN reposts INTEGER NOT NULL DEFAULT 0;

-- Every chat request the gateway answered, in US dollars: the cost it reported in `usage`, or (reported = 0)
-- what the listing's prices make of the tokens it reported. SPEND_LIMIT_USD_PER_WEEK is checked against the
-- last seven days of it.
CREATE TABLE spend (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    model_id  TEXT NOT NULL,
    run_id    INTEGER REFERENCES probe_runs (id) ON DELETE SET NULL,
    purpose   TEXT NOT NULL,
    usd       REAL NOT NULL CHECK (usd >= 0),
    reported  INTEGER NOT NULL
);
CREATE INDEX spend_at ON spend (at);

-- A calibration target that failed is tried again after a backoff: an outage must not disable guesses for good.
-- `attempts` counts the runs that failed for the model's own reasons (only those end the retries), `outages` the
-- runs the gateway or the account lost (the backoff grows with both). Targets that failed before this version
-- have neither, so they are due again at once.
ALTER TABLE calibration_targets ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calibration_targets ADD COLUMN outages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calibration_targets ADD COLUMN next_attempt_at TEXT;

-- The same split for stealth models' probe runs: a run lost to an outage does not bring the model nearer to
-- PROBE_RETRY_MAX_ATTEMPTS.
ALTER TABLE probe_attempts ADD COLUMN outages INTEGER NOT NULL DEFAULT 0;

-- Guilds that removed the bot: their members' data is purged GUILD_DATA_RETENTION_DAYS after `left_at`.
CREATE TABLE guild_departures (
    guild_id INTEGER PRIMARY KEY,
    left_at  TEXT NOT NULL
);
