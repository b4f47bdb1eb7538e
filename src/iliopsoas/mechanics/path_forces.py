"""Ligaments and path springs (OpenSim's ``Ligament`` and ``PathSpring``): lengths, moment arms
and tensions over batches of poses.

Their paths are ``GeometryPath``s like the muscles', so they are computed by the same engine: a
second :class:`~iliopsoas.mechanics.model.Model` that shares the skeleton and holds the path
forces as its "muscles" is made once per model and kept with it. Names and indices refer to
``model.path_forces``.

Tensions follow OpenSim 4.6: a ``Ligament`` pulls with ``pcsa_force * force_length_curve(L /
resting_length)`` when longer than its resting length and not at all otherwise; a ``PathSpring`` with ``stiffness * max(L - resting_length, 0) * (1 +
dissipation * dL/dt)`` (``lengthening_speed`` is ``dL/dt``, m/s, 0 when not given).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from iliopsoas.mechanics.model import Model, PathForce
from iliopsoas.mechanics.moment_arms import moment_arms, muscle_lengths

Array = NDArray[np.float64]
_LOCK = threading.Lock()
_ATTR = "_path_force_model"


def path_force_model(model: Model) -> Model:
    """A model with the same skeleton whose muscles are ``model.path_forces`` (made once, kept)."""
    view = model.__dict__.get(_ATTR)
    if view is None:
        with _LOCK:
            view = model.__dict__.get(_ATTR)
            if view is None:
                view = dataclasses.replace(model, name=f"{model.name} (path forces)", muscles=model.path_forces,
                                           muscle_params=None, path_forces=())
                object.__setattr__(model, _ATTR, view)
    return view


def path_force_lengths(model: Model, q: object, names: Sequence[str] | Sequence[int] | None = None, *,
                       use_kernel: bool = True) -> Array:
    """Path lengths (m) of the ligaments and springs, ``(n_poses, n_path_forces)``."""
    return muscle_lengths(path_force_model(model), q, names, use_kernel=use_kernel)


def path_force_moment_arms(model: Model, q: object, coordinates: Sequence[str] | Sequence[int] | None = None,
                           exact: bool = False, *, names: Sequence[str] | Sequence[int] | None = None,
                           use_kernel: bool = True) -> Array:
    """Moment arms (m) of the path forces, ``(n_poses, n_path_forces, n_coordinates)``, as
    :func:`~iliopsoas.mechanics.moment_arms.moment_arms` defines them."""
    return moment_arms(path_force_model(model), q, coordinates, exact, muscles=names, use_kernel=use_kernel)


def path_force_tensions(model: Model, q: object, *, lengthening_speed: ArrayLike | None = None,
                        names: Sequence[str] | Sequence[int] | None = None, use_kernel: bool = True) -> Array:
    """Tensions (N) of the path forces, ``(n_poses, n_path_forces)`` (see the module docstring)."""
    view = path_force_model(model)
    L = muscle_lengths(view, q, names, use_kernel=use_kernel)
    ids = list(range(len(view.muscles))) if names is None else [
        n if not isinstance(n, str) else view.muscle_index(n) for n in names]
    forces: list[PathForce] = [model.path_forces[int(i)] for i in ids]
    speed = np.zeros_like(L) if lengthening_speed is None else np.broadcast_to(
        np.asarray(lengthening_speed, dtype=float), L.shape)
    out = np.zeros_like(L)
    for k, pf in enumerate(forces):
        if pf.type == "Ligament":
            assert pf.force_length_curve is not None
            taut = L[:, k] > pf.resting_length  # a slack ligament pulls with nothing (the curve is not read)
            with np.errstate(divide="ignore", invalid="ignore"):
                f = pf.pcsa_force * pf.force_length_curve.value(L[:, k] / pf.resting_length)
            out[:, k] = np.where(taut, f, 0.0)
        else:
            stretch = np.maximum(L[:, k] - pf.resting_length, 0.0)
            out[:, k] = pf.stiffness * stretch * (1.0 + pf.dissipation * speed[:, k])
    return out
