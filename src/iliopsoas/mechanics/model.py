"""The immutable description of a musculoskeletal model.

A :class:`Model` is built once (usually by :func:`iliopsoas.mechanics.osim.load_osim`) and never
mutated: every array it holds is read-only, and a changed model (scaled, re-parameterised) is a
new object. Computations live in free functions (:mod:`~iliopsoas.mechanics.kinematics`,
:mod:`~iliopsoas.mechanics.path`, :mod:`~iliopsoas.mechanics.moment_arms`) that take the model
and a batch of poses ``q`` of shape ``(n_poses, n_coordinates)``.

Vocabulary follows OpenSim (bodies, joints, coordinates, ``CoordinateCouplerConstraint``,
``PathPoint``/``ConditionalPathPoint``/``MovingPathPoint``, ``PathWrap`` and wrap objects) so
that users recognise it. Units are SI (m, rad, kg).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics.functions import Function

Array = NDArray[np.float64]


def frozen_array(a: Any, dtype: Any = float) -> NDArray[Any]:
    """A read-only copy of ``a``."""
    arr = np.array(a, dtype=dtype)
    arr.setflags(write=False)
    return arr


def rotation_body_xyz(angles: Any) -> Array:
    """Rotation matrix of a body-fixed X-Y-Z sequence (OpenSim ``orientation``), shape ``(3, 3)``."""
    a, b, c = (float(v) for v in angles)
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    rx = np.array([[1, 0, 0], [0, ca, -sa], [0, sa, ca]])
    ry = np.array([[cb, 0, sb], [0, 1, 0], [-sb, 0, cb]])
    rz = np.array([[cc, -sc, 0], [sc, cc, 0], [0, 0, 1]])
    return rx @ ry @ rz


def body_xyz_from_rotation(r: Array) -> Array:
    """Inverse of :func:`rotation_body_xyz` (angles in rad, shape ``(3,)``)."""
    b = np.arcsin(np.clip(r[0, 2], -1.0, 1.0))
    if abs(r[0, 2]) < 1.0 - 1e-12:
        a = np.arctan2(-r[1, 2], r[2, 2])
        c = np.arctan2(-r[0, 1], r[0, 0])
    else:  # gimbal lock: put everything on the first angle
        a = np.arctan2(r[2, 1], r[1, 1])
        c = 0.0
    return np.array([a, b, c])


@dataclass(frozen=True, eq=False)
class Body:
    """A rigid body; index 0 of :attr:`Model.bodies` is always ``ground``."""

    name: str
    mass: float = 0.0
    mass_center: Array = field(default_factory=lambda: frozen_array(np.zeros(3)))
    inertia: Array = field(default_factory=lambda: frozen_array(np.zeros(6)))


@dataclass(frozen=True, eq=False)
class Coordinate:
    """A generalized coordinate. ``range`` is ``(min, max)`` in rad or m."""

    name: str
    joint: str
    motion_type: str  # "rotational" | "translational" | "coupled"
    default_value: float
    range: tuple[float, float]
    clamped: bool = True
    locked: bool = False


@dataclass(frozen=True, eq=False)
class Joint:
    """A joint as six transform axes (OpenSim's SpatialTransform), whatever its OpenSim type.

    ``X_FM`` is the rotation ``R(a0, s0) R(a1, s1) R(a2, s2)`` (body-fixed sequence about the unit
    axes ``axes[0:3]`` of the parent offset frame F) and the translation ``s3 a3 + s4 a4 + s5 a5``
    expressed in F, with ``s_i = functions[i](q[coordinates[i]])`` (a constant when
    ``coordinates[i] == -1``). The child body pose is ``X_GB = X_GP X_PF X_FM X_BM^-1``.
    """

    name: str
    type: str
    parent: int
    child: int
    parent_rotation: Array  # R_PF, (3, 3)
    parent_translation: Array  # p_PF, (3,)
    child_rotation: Array  # R_BM, (3, 3)
    child_translation: Array  # p_BM, (3,)
    axes: Array  # (6, 3)
    functions: tuple[Function, ...]
    axis_coordinates: tuple[int, ...]  # index into Model.coordinates per axis, -1 when constant
    coordinates: tuple[int, ...]  # the joint's own coordinates, in declaration order


@dataclass(frozen=True, eq=False)
class Coupler:
    """``CoordinateCouplerConstraint``: ``q[dependent] = scale_factor * function(q[independent])``."""

    name: str
    dependent: int
    independent: int
    function: Function
    scale_factor: float = 1.0


@dataclass(frozen=True, eq=False)
class WrapObject:
    """A wrap surface fixed to ``body``; its frame W is ``(rotation, translation)`` in the body."""

    name: str
    type: str  # "WrapCylinder" | "WrapEllipsoid" | "WrapSphere"
    body: int
    xyz_body_rotation: Array
    translation: Array
    rotation: Array  # R_BW (3, 3)
    quadrant: str = "all"
    wrap_axis: int = 0
    wrap_sign: int = 0  # 0 = unconstrained
    radius: float = 0.0
    length: float = 0.0
    dimensions: Array = field(default_factory=lambda: frozen_array(np.zeros(3)))
    active: bool = True


@dataclass(frozen=True, eq=False)
class PathPoint:
    """A path point. ``kind`` is ``"fixed"``, ``"conditional"`` or ``"moving"``.

    Conditional points are active when ``q[coordinate]`` lies in ``range`` (widened by 1e-5 as
    in OpenSim). Moving points place x, y, z at ``functions[i](clamp(q[coordinate]))``.
    """

    name: str
    body: int
    location: Array
    kind: str = "fixed"
    coordinate: int = -1
    range: tuple[float, float] = (0.0, 0.0)
    functions: tuple[Function, ...] = ()


@dataclass(frozen=True, eq=False)
class PathWrap:
    """One ``PathWrap`` of a path: a wrap object and the 1-based point range it may wrap."""

    wrap_object: int
    start: int = -1
    end: int = -1
    method: str = "hybrid"


@dataclass(frozen=True, eq=False)
class Muscle:
    """A path actuator: its OpenSim class, path points and wraps (``xml`` keeps its properties)."""

    name: str
    type: str
    points: tuple[PathPoint, ...]
    wraps: tuple[PathWrap, ...]
    xml: str = ""


@dataclass(frozen=True, eq=False)
class Model:
    """An immutable musculoskeletal model.

    ``joints`` are topologically ordered (a joint's parent body is ground or the child of an
    earlier joint). ``bodies[0]`` is ground. ``skipped`` lists the components that were not
    understood (lenient loading).
    """

    name: str
    bodies: tuple[Body, ...]
    joints: tuple[Joint, ...]
    coordinates: tuple[Coordinate, ...]
    couplers: tuple[Coupler, ...] = ()
    wrap_objects: tuple[WrapObject, ...] = ()
    muscles: tuple[Muscle, ...] = ()
    muscle_params: Any = None
    skipped: tuple[str, ...] = ()
    source: str = ""
    gravity: Array = field(default_factory=lambda: frozen_array([0.0, -9.80665, 0.0]))

    @cached_property
    def coordinate_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.coordinates)

    @cached_property
    def muscle_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.muscles)

    @cached_property
    def body_names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.bodies)

    @cached_property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    @cached_property
    def coordinate_defaults(self) -> Array:
        """Default value of every coordinate, ``(n_coordinates,)``, couplers applied."""
        from iliopsoas.mechanics.kinematics import complete_coordinates

        q = np.array([c.default_value for c in self.coordinates], dtype=float)[None, :]
        return frozen_array(complete_coordinates(self, q)[0])

    @cached_property
    def coordinate_ranges(self) -> Array:
        """``(n_coordinates, 2)`` array of ``[min, max]``."""
        return frozen_array([c.range for c in self.coordinates])

    @cached_property
    def dependent_mask(self) -> NDArray[np.bool_]:
        """True for coordinates recomputed from a coupler, ``(n_coordinates,)``."""
        mask = np.zeros(len(self.coordinates), dtype=bool)
        for c in self.couplers:
            mask[c.dependent] = True
        mask.setflags(write=False)
        return mask

    def coordinate_index(self, name: str) -> int:
        try:
            return self.coordinate_names.index(name)
        except ValueError:
            raise KeyError(f"unknown coordinate {name!r} in model {self.name!r}") from None

    def muscle_index(self, name: str) -> int:
        try:
            return self.muscle_names.index(name)
        except ValueError:
            raise KeyError(f"unknown muscle {name!r} in model {self.name!r}") from None

    def body_index(self, name: str) -> int:
        try:
            return self.body_names.index(name)
        except ValueError:
            raise KeyError(f"unknown body {name!r} in model {self.name!r}") from None

    def coupled_to(self, coordinate: int) -> tuple[int, ...]:
        """Coordinates driven by ``coordinate`` through couplers (directly or in a chain)."""
        out: list[int] = []
        frontier = [coordinate]
        while frontier:
            c = frontier.pop()
            for cp in self.couplers:
                if cp.independent == c and cp.dependent not in out:
                    out.append(cp.dependent)
                    frontier.append(cp.dependent)
        return tuple(out)
