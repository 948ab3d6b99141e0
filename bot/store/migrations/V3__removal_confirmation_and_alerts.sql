-- Removal needs confirmation: how many successful polls in a row a model has been missing, and since when.
ALTER TABLE models ADD COLUMN missing_polls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE models ADD COLUMN missing_since TEXT;
