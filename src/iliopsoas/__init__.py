"""iliopsoas: the human hip-flexor complex, made computable.

Layers point one way: ``web``/``cli`` -> ``care``/``posture`` -> ``mechanics``/``knowledge``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("iliopsoas")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
