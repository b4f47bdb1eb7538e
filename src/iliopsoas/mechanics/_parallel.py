"""Thread settings shared by the compiled kernels (muscle paths and muscle forces).

``ILIOPSOAS_THREADS`` sets how many threads a kernel uses (default: every core).

The whole-model path kernels are serial and release the GIL; :func:`run_sliced` spreads the poses
over Python threads, one contiguous slice each. The muscle-force kernel uses numba's
``parallel=True``: its launches hold :data:`KERNEL_LOCK`, because numba's workqueue threading
layer (the one used without OpenMP or TBB) is not safe for launches from several Python threads
at once, and the thread count is set just before each launch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

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


def pose_slices(n: int, block: int, count: int | None = None) -> list[slice]:
    """Contiguous slices of ``n`` poses, one per thread (at most :func:`threads`), each a whole
    number of ``block``-pose blocks except the last; a single slice when there is under two
    blocks of work."""
    count = threads() if count is None else count
    blocks = (n + block - 1) // block
    parts = max(1, min(count, blocks))
    per = (blocks + parts - 1) // parts * block
    return [slice(a, min(n, a + per)) for a in range(0, n, per)] if n else [slice(0, 0)]


def run_sliced(call: Callable[[slice], object], n: int, block: int) -> None:
    """Run ``call(s)`` for each of :func:`pose_slices` ``(n, block)``: inline for one slice, else one
    thread each (the compiled kernels called release the GIL). An error in any slice is raised."""
    slices = pose_slices(n, block)
    if len(slices) == 1:
        call(slices[0])
        return
    with ThreadPoolExecutor(max_workers=len(slices), thread_name_prefix="iliopsoas-kernel") as pool:
        for f in [pool.submit(call, s) for s in slices]:
            f.result()
