-- What a guess rests on in plain words (supporting and disagreeing findings), for the card's headline.
ALTER TABLE guesses ADD COLUMN findings_json TEXT NOT NULL DEFAULT '[]';
