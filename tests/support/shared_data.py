"""The shared data beside the checkout (`../shared/data`): a test that needs it skips, visibly, when it is absent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.testing.gateway_server import load_snapshot

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_file(relative: str) -> Path:
    """A file from ../shared/data, or a visible skip when the folder is not beside the checkout."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"shared data not available: {path} is absent (it lives in ../shared beside the checkout)")
    return path


def snapshot_or_skip(name: str) -> dict[str, Any]:
    """A shared catalogue snapshot for a test, or a visible skip when the shared data is not beside the repo."""
    shared_file(f"catalogue/{name}")
    return load_snapshot(name)
