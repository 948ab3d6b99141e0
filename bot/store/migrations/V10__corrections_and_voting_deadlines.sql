-- A reveal corrected later keeps the time of the first reveal (the bot's call is its guess before it) and says
-- when it was corrected and what it said before.
ALTER TABLE reveals ADD COLUMN corrected_at TEXT;
ALTER TABLE reveals ADD COLUMN corrected_from TEXT;

-- When voting closes in a guild besides the reveal: 'reveal' (only then), 'removal' (when the model leaves the
-- catalogue) or 'days' (voting_days after the card was made).
ALTER TABLE guild_settings ADD COLUMN voting_closes TEXT NOT NULL DEFAULT 'reveal'
    CHECK (voting_closes IN ('reveal', 'removal', 'days'));
ALTER TABLE guild_settings ADD COLUMN voting_days INTEGER CHECK (voting_days BETWEEN 1 AND 365);
