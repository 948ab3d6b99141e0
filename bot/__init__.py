"""Model Scout core: everything the bot does, importable without Discord."""
