"""Thread settings shared by the compiled parallel kernels (muscle paths and muscle forces).

``ILIOPSOAS_THREADS`` sets how many threads a parallel kernel uses (default: every core). Every
parallel launch holds :data:`KERNEL_LOCK`, whichever module makes it: numba's workqueue
threading layer (the one used without OpenMP or TBB) is not safe for launches from several
Python threads at once, and the thread count is set just before each launch.
"""

from __future__ import annotations

import os
import threading

KERNEL_LOCK = threading.Lock()


def threads() -> int:
    """Threads a parallel kernel may use: ``ILIOPSOAS_THREADS`` when it is a whole number (at
    least 1), else the number of cores."""
    env = os.environ.get("ILIOPSOAS_THREADS", "")
    return max(1, int(env)) if env.isdigit() else max(1, os.cpu_count() or 1)


def set_kernel_threads() -> int:
    """Set numba's thread count for the next launch and return it: :func:`threads`, at most
    numba's pool size. Call it while holding :data:`KERNEL_LOCK`."""
    import numba

    count = min(threads(), int(getattr(numba.config, "NUMBA_NUM_THREADS", 1)))
    numba.set_num_threads(count)
    return count
