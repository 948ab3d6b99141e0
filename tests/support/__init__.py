"""Helpers the tests share: worlds, fakes driven from tests, processes, builders. Fixtures live in conftest.py files."""
