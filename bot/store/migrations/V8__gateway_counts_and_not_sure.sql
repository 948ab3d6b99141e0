-- A reference answer keeps what the gateway reported for it: completion tokens and the provider that served
-- it (a chat template's offset in prompt tokens is constant per provider, so the tokenizer signal aligns by it).
ALTER TABLE reference_answers ADD COLUMN completion_tokens INTEGER;
ALTER TABLE reference_answers ADD COLUMN provider TEXT;

-- A ranked guess below the confidence at which the bot names one vendor says "not sure" instead (JSON:
-- kind, candidates, reason, threshold); NULL when it names one.
ALTER TABLE guesses ADD COLUMN not_sure_json TEXT;
