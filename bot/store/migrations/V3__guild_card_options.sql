-- Per-guild card options. Votes stay hidden until the reveal in guilds set up from now on; guilds that
-- already exist keep seeing the tally, as before. A discussion thread per announcement is opt-in.
ALTER TABLE guild_settings ADD COLUMN hide_votes INTEGER NOT NULL DEFAULT 1;
UPDATE guild_settings SET hide_votes = 0;
ALTER TABLE guild_settings ADD COLUMN threads INTEGER NOT NULL DEFAULT 0;

