"""iliopsoas: the human hip-flexor complex, made computable.

Layers point one way: ``web``/``cli`` -> ``care``/``posture`` -> ``mechanics``/``knowledge``.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("iliopsoas")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "ask"]


def __getattr__(name: str) -> Any:  # lazy: ``import iliopsoas`` stays light
    if name == "ask":
        from iliopsoas.knowledge.ask import ask

        return ask
    raise AttributeError(f"module 'iliopsoas' has no attribute {name!r}")
