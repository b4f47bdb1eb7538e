"""Shared fixtures.

Tests that need ``../shared`` (OpenSim models, published reference numbers, the seed articles) use
the ``shared`` fixture: it skips with a clear reason when the folder is absent, and fails when
``CI=true`` (CI must never pass by skipping them).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from iliopsoas.paths import shared_dir


def _require_shared(sub: str = "") -> Path:
    root = shared_dir()
    path = (root / sub) if (root and sub) else root
    if path is None or not path.exists():
        reason = f"../shared{'/' + sub if sub else ''} is absent (set ILIOPSOAS_SHARED or clone it beside the repo)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ``shared`` folder beside the checkout."""
    return _require_shared()


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return _require_shared("reference")


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return _require_shared("models")


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return _require_shared("seeds")


@pytest.fixture(scope="module")
def seed() -> int:
    """Seed of the fresh random poses the live OpenSim comparisons draw (printed, so that
    ``ILIOPSOAS_MECH_SEED=<value>`` replays a failure)."""
    env = os.environ.get("ILIOPSOAS_MECH_SEED")
    value = int(env) if env else int(time.time_ns() % 2**31)
    print(f"ILIOPSOAS_MECH_SEED={value}")
    return value
