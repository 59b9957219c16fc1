"""Shared fixtures: the repository's paths and the real public data in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """Gets ../shared/data (or $HANDOFF_SHARED_DATA)."""
    return Path(os.environ.get("HANDOFF_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The real data sets; skipped where absent, but a failure in CI (which has them)."""
    path = shared_data_dir()
    if not path.is_dir():
        message = f"real data not found at {path} (set HANDOFF_SHARED_DATA)"
        if os.environ.get("HANDOFF_REQUIRE_SHARED_DATA"):
            pytest.fail(message)
        pytest.skip(message)
    return path
