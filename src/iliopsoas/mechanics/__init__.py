"""The mechanics engine: OpenSim models, batched kinematics, muscle paths and moment arms.

>>> from iliopsoas.mechanics import load_osim, muscle_lengths, moment_arms  # doctest: +SKIP
>>> model = load_osim("Rajagopal2016.osim")                                 # doctest: +SKIP
>>> L = muscle_lengths(model, q)            # (n_poses, n_muscles), m        # doctest: +SKIP
>>> r = moment_arms(model, q, ["hip_flexion_r"])  # (n_poses, n_muscles, 1)  # doctest: +SKIP
"""

from iliopsoas.mechanics.kinematics import body_transforms, complete_coordinates, coupling_vectors
from iliopsoas.mechanics.model import Model, with_wrapping
from iliopsoas.mechanics.moment_arms import (
    lengths_and_moment_arms,
    moment_arms,
    muscle_lengths,
    path_points,
)
from iliopsoas.mechanics.osim import OsimError, load_osim, write_osim
from iliopsoas.mechanics.path import UnsupportedWrapError

__all__ = [
    "Model",
    "OsimError",
    "UnsupportedWrapError",
    "body_transforms",
    "complete_coordinates",
    "coupling_vectors",
    "lengths_and_moment_arms",
    "load_osim",
    "moment_arms",
    "muscle_lengths",
    "path_points",
    "with_wrapping",
    "write_osim",
]
