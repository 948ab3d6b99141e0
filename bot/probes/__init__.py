"""Probing a model: the versioned suite of questions, the runner that asks them, the shared rate limiter."""
