"""Benchmarks that drive the real bot against the fakes under `tests/fakes/`: `python -m bench.<name> [--json]`."""
