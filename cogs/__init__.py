"""Discord extensions; each module with a `setup` is loaded by the bot."""
