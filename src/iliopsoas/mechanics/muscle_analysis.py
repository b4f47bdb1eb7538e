"""Muscle quantities over a motion, in one table (our counterpart of OpenSim's MuscleAnalysis).

OpenSim's MuscleAnalysis writes one file per quantity (``_Length.sto``, ``_FiberLength.sto``,
``_MomentArm_<coordinate>.sto``, ...). :func:`analyze_motion` returns a single
:class:`~iliopsoas.mechanics.storage.Storage` whose columns are named
``<muscle>|<quantity>``, after OpenSim's output names (``/forceset/psoas_r|tendon_force``):

================================  =====  ======================================================
column                            unit   meaning
================================  =====  ======================================================
``time``                          s      the motion's time column
``<m>|length``                    m      muscle-tendon (path) length
``<m>|fiber_length``              m      fiber length
``<m>|normalized_fiber_length``   --     fiber length / optimal fiber length
``<m>|pennation_angle``           rad    pennation angle
``<m>|tendon_length``             m      tendon length
``<m>|active_fiber_force``        N      active fiber force (along the fiber)
``<m>|passive_fiber_force``       N      passive fiber force (along the fiber)
``<m>|tendon_force``              N      tendon force (= force applied to the bones)
``<m>|moment_arm_<c>``            m      moment arm about coordinate c (OpenSim's definition)
``<m>|moment_<c>``                N·m    tendon force × moment arm (N for a translational c)
================================  =====  ======================================================

Forces are static: at each frame the fibers are at zero velocity (the compliant tendon in
equilibrium), at the given activation. Moment-arm columns are written only for the
(muscle, coordinate) pairs whose moment arm is non-zero somewhere in the motion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from iliopsoas.mechanics.forces import TendonMode, muscle_forces
from iliopsoas.mechanics.storage import Storage, coordinate_of_label, model_motion_to_q

QUANTITIES = (
    ("length", "mtu_length"),
    ("fiber_length", "fiber_length"),
    ("normalized_fiber_length", "normalized_fiber_length"),
    ("pennation_angle", "pennation_angle"),
    ("tendon_length", "tendon_length"),
    ("active_fiber_force", "active_fiber_force"),
    ("passive_fiber_force", "passive_fiber_force"),
    ("tendon_force", "tendon_force"),
)


def analyze_motion(model: Any, motion: Storage, *, muscles: Sequence[str] | None = None,
                   coordinates: Sequence[str] | None = None, activation: float = 1.0,
                   tendon: TendonMode | str = "model") -> tuple[Storage, dict[str, Any]]:
    """Lengths, moment arms, fiber lengths and forces of ``muscles`` over ``motion``.

    Parameters
    ----------
    model : Model
        A loaded model.
    motion : Storage
        Coordinates over time (``.mot``); missing coordinates keep their defaults.
    muscles : names, optional
        Default: every muscle of the model.
    coordinates : names, optional
        Coordinates for moment arms. Default: the independent coordinates the motion contains.
    activation : float in [0, 1]
    tendon : {"model", "rigid", "compliant"}

    Returns
    -------
    (table, summary)
        The table (columns described in the module docstring) and a dict with the row count,
        the muscles, the coordinates, the motion columns not used and the number of frames
        where a compliant-tendon equilibrium was not found (NaN in the table).
    """
    from iliopsoas.mechanics import lengths_and_moment_arms

    names = list(muscles) if muscles else list(model.muscle_names)
    ids = [model.muscle_index(n) for n in names]
    q, ignored = model_motion_to_q(model, motion)
    if coordinates:
        cids = [model.coordinate_index(c) for c in coordinates]
    else:
        present = set()
        for label in motion.labels[1:]:
            coord, quantity = coordinate_of_label(label)
            if quantity == "value":
                present.add(coord)
        dep = np.asarray(model.dependent_mask, dtype=bool)
        cids = [i for i, c in enumerate(model.coordinate_names) if c in present and not dep[i]]
    cnames = [model.coordinate_names[i] for i in cids]
    L, r = lengths_and_moment_arms(model, q, cids, muscles=ids)
    state = muscle_forces(model, q, activation, muscles=ids, tendon=tendon, lengths=L)
    labels: list[str] = [motion.labels[0] if motion.labels else "time"]
    cols: list[np.ndarray] = [motion.time]
    for k, m in enumerate(names):
        for label, attr in QUANTITIES:
            labels.append(f"{m}|{label}")
            cols.append(getattr(state, attr)[:, k])
        for j, c in enumerate(cnames):
            arm = r[:, k, j]
            if not np.any(arm != 0.0):
                continue
            labels.append(f"{m}|moment_arm_{c}")
            cols.append(arm)
            labels.append(f"{m}|moment_{c}")
            cols.append(arm * state.tendon_force[:, k])
    table = Storage(name="MuscleAnalysis", labels=tuple(labels), data=np.column_stack(cols), in_degrees=False)
    summary = {
        "rows": int(q.shape[0]),
        "columns": len(labels),
        "muscles": names,
        "coordinates": cnames,
        "activation": float(activation),
        "tendon": tendon,
        "unused_motion_columns": ignored,
        "frames_without_equilibrium": int((~state.converged).any(axis=1).sum()),
    }
    return table, summary
