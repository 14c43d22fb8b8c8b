"""Shared fixtures: where ../shared is, and a skip with a clear message when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KINHTESO_SHARED", ROOT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared; the calling test is skipped, saying why, when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"reference data not found at {p}: ../shared is absent (oracle test skipped)")
    return p


@pytest.fixture
def shared():
    return shared_path
