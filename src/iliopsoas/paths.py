"""Where the project finds data that lives outside the package.

``../shared`` (OpenSim models, published reference numbers, the four seed articles) sits beside
the repository checkout. It is used by tests and benchmarks, never needed at run time by users.
``ILIOPSOAS_SHARED`` overrides the location.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent.parent


def shared_dir() -> Path | None:
    """Return the ``shared`` folder beside the checkout, or ``None`` when it is absent."""
    env = os.environ.get("ILIOPSOAS_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [REPO_DIR.parent / "shared", Path.cwd().parent / "shared"]
    for c in candidates:
        if (c / "reference").is_dir() or (c / "models").is_dir():
            return c.resolve()
    return None
