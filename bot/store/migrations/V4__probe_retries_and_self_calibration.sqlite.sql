-- Version 5: what still needs probing lives in the store, not in the process that saw the model first.

-- One row per model and suite: how many attempts, when the next is due, and the run that succeeded.
CREATE TABLE probe_attempts (
    model_id          TEXT NOT NULL,
    suite_version     TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    succeeded_run_id  INTEGER REFERENCES probe_runs (id) ON DELETE SET NULL,
    next_attempt_at   TEXT,
    last_reason       TEXT,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (model_id, suite_version)
);

-- Models attributed before this version count as probed: their runs are not paid for twice.
INSERT INTO probe_attempts (model_id, suite_version, attempts, succeeded_run_id, updated_at)
SELECT guesses.model_id, probe_runs.suite_version, 1, MAX(guesses.run_id), MAX(guesses.created_at)
FROM guesses JOIN probe_runs ON probe_runs.id = guesses.run_id
WHERE probe_runs.failures < (SELECT COUNT(*) FROM probe_responses WHERE probe_responses.run_id = probe_runs.id)
GROUP BY guesses.model_id, probe_runs.suite_version;

-- A guess is either a ranking or a state saying what is missing; `reason` is the line shown first.
ALTER TABLE guesses ADD COLUMN status TEXT NOT NULL DEFAULT 'ranked';
ALTER TABLE guesses ADD COLUMN reason TEXT;

-- The bot's own calibration: the models it chose as references, and how each went.
CREATE TABLE calibration_targets (
    model_id      TEXT NOT NULL,
    suite_version TEXT NOT NULL,
    vendor        TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    requests      INTEGER NOT NULL DEFAULT 0,
    detail        TEXT,
    planned_at    TEXT NOT NULL,
    finished_at   TEXT,
    PRIMARY KEY (model_id, suite_version)
);
