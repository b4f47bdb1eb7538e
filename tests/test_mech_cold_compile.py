"""Cold start (issue 17): with an empty numba cache, every kernel function compiles once.

A literal argument (``0``, ``True``) passed from one compiled function to another makes numba
compile the callee again for the literal's type, and a variable that starts as a literal and
changes later makes it compile once per intermediate type; before this was fixed, the OpenSim-mode
wrap step compiled three times and the smooth-mode one four (22 s of a 22 s cold start went to
compiling). The test compiles both modes' kernels and the ellipsoid wrap in a fresh process with
an empty cache and counts the compilations of each of our functions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHILD = r"""
import collections, json
import numpy as np
from numba.core import event
counts = collections.Counter()
class Count(event.Listener):
    def on_start(self, e): pass
    def on_end(self, e):
        f = e.data["dispatcher"].py_func
        if f.__module__.startswith("iliopsoas."):
            counts[f.__module__ + "." + f.__qualname__] += 1
event.register("numba:compile", Count())
from iliopsoas import models
from iliopsoas.mechanics import complete_coordinates, lengths_and_moment_arms, with_wrapping
m = models.load()
lo, hi = m.coordinate_ranges.T
q = complete_coordinates(m, lo + (hi - lo) * np.random.default_rng(0).random((300, len(lo))))
for mode in ("opensim", "smooth"):
    lengths_and_moment_arms(with_wrapping(m, mode), q, [0, 1])
from iliopsoas.mechanics import wrap  # the ellipsoid kernel, called as the path code calls it
rng = np.random.default_rng(1)
dims = np.array([0.05, 0.04, 0.03]); dims.flags.writeable = False  # a model's dimensions are read-only
for method, sign in (("hybrid", 1), ("midpoint", 0), ("axial", -1)):
    wrap.wrap_ellipsoid(rng.normal(0, 0.1, (5, 3)), rng.normal(0, 0.1, (5, 3)), dims, 1, sign, method, compiled=True)
print(json.dumps(counts))
"""


def test_every_kernel_function_compiles_once_from_an_empty_cache(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    res = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=900)
    assert res.returncode == 0, res.stderr[-2000:]
    counts = json.loads(res.stdout.strip().splitlines()[-1])
    assert any("model_kernel" in k for k in counts) and any("smooth_model_kernel" in k for k in counts), counts
    assert any("_ellipsoid_kernels" in k for k in counts), counts
    again = {k: n for k, n in counts.items() if n > 1}
    assert not again, f"compiled more than once (a literal or changing argument type): {again}"
