"""The catalogue: parse the gateway's model listing, diff it against the store, tell stealth models apart."""
