"""Benchmarks that drive the real bot against the fakes under `bot/testing/`: `python -m bench.<name> [--json]`."""
