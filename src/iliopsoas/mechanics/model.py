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

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from iliopsoas.mechanics import smooth_wrap, wrap, wrap_torus
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


WrapResult = tuple[NDArray[np.int_], Array, Array, Array]
#: a smooth wrap's result: status, tangent points, wrap length and the pulls on inside end points
SmoothResult = tuple[NDArray[np.int_], Array, Array, Array, Array, Array]


@dataclass(frozen=True, eq=False)
class WrapObject:
    """A wrap surface fixed to ``body``; its frame W is ``(rotation, translation)`` in the body.

    One subclass per OpenSim surface (:class:`WrapCylinder`, :class:`WrapSphere`,
    :class:`WrapEllipsoid`, :class:`WrapTorus`) holds that surface's OpenSim class name (``type``), its size
    properties and its ``wrapLine`` algorithm (:meth:`wrap_line`); nothing else in the engine
    branches on the kind of surface.
    """

    name: str
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

    type: ClassVar[str] = ""
    #: the compiled path kernel reproduces this surface's algorithm
    has_kernel: ClassVar[bool] = False
    #: batches from this many poses up run the surface's compiled code (when allowed)
    kernel_min_poses: ClassVar[int] = wrap.KERNEL_MIN_POSES
    #: the smooth kernel's code for this surface (``_smooth_kernels.CYLINDER`` ...; -1: none)
    smooth_code: ClassVar[int] = -1

    def size_vector(self) -> tuple[float, float, float]:
        """The surface's size as the kernels read it: a radius then zeros, or three semi-axes (m)."""
        return (float(self.radius), 0.0, 0.0)

    def wrap_line(self, p1: Array, p2: Array, *, single: bool, method: str, compiled: bool) -> WrapResult:
        """OpenSim's ``wrapLine`` for segments ``p1 -> p2`` ``(n, 3)`` in this surface's frame:
        ``(status (n,), r1 (n, 3), r2 (n, 3), wrap length (n,))`` (see :mod:`~iliopsoas.mechanics.wrap`)."""
        raise TypeError(f"{type(self).__name__} has no wrapping algorithm")

    def smooth_line(self, p1: Array, p2: Array, *, method: str) -> SmoothResult:
        """The shortest path over this surface (``wrapping="smooth"``, see
        :mod:`~iliopsoas.mechanics.smooth_wrap`): :meth:`wrap_line`'s outputs and the directions in
        which a unit tension pulls an end point that lies inside the surface (zero otherwise)."""
        raise TypeError(f"{type(self).__name__} has no wrapping algorithm")

    def size_properties(self) -> dict[str, str]:
        """The surface's size properties as OpenSim writes them (tag -> text)."""
        return {}


def _num_text(v: float) -> str:
    return repr(float(v))


@dataclass(frozen=True, eq=False)
class WrapCylinder(WrapObject):
    """OpenSim ``WrapCylinder``: axis along the frame's z, ``radius`` and total ``length`` (m)."""

    type: ClassVar[str] = "WrapCylinder"
    has_kernel: ClassVar[bool] = True
    smooth_code: ClassVar[int] = 0

    def wrap_line(self, p1: Array, p2: Array, *, single: bool, method: str, compiled: bool) -> WrapResult:
        return wrap.wrap_cylinder(p1, p2, self.radius, self.length, self.wrap_axis, self.wrap_sign, single,
                                  compiled=compiled)

    def smooth_line(self, p1: Array, p2: Array, *, method: str) -> SmoothResult:
        return smooth_wrap.smooth_cylinder(p1, p2, self.radius, self.wrap_axis, self.wrap_sign)

    def size_properties(self) -> dict[str, str]:
        return {"radius": _num_text(self.radius), "length": _num_text(self.length)}


@dataclass(frozen=True, eq=False)
class WrapSphere(WrapObject):
    """OpenSim ``WrapSphere`` of ``radius`` (m) centred at the frame's origin."""

    type: ClassVar[str] = "WrapSphere"
    smooth_code: ClassVar[int] = 1

    def wrap_line(self, p1: Array, p2: Array, *, single: bool, method: str, compiled: bool) -> WrapResult:
        return wrap.wrap_sphere(p1, p2, self.radius, self.wrap_axis, self.wrap_sign)

    def smooth_line(self, p1: Array, p2: Array, *, method: str) -> SmoothResult:
        return smooth_wrap.smooth_sphere(p1, p2, self.radius, self.wrap_axis, self.wrap_sign)

    def size_properties(self) -> dict[str, str]:
        return {"radius": _num_text(self.radius)}


@dataclass(frozen=True, eq=False)
class WrapEllipsoid(WrapObject):
    """OpenSim ``WrapEllipsoid`` with semi-axes ``dimensions`` (m) along the frame's axes."""

    type: ClassVar[str] = "WrapEllipsoid"
    smooth_code: ClassVar[int] = 2
    #: the NumPy wrap costs a few hundred µs a call whatever the batch; the compiled one pays off at once
    kernel_min_poses: ClassVar[int] = 1

    def size_vector(self) -> tuple[float, float, float]:
        return (float(self.dimensions[0]), float(self.dimensions[1]), float(self.dimensions[2]))

    def smooth_line(self, p1: Array, p2: Array, *, method: str) -> SmoothResult:
        return smooth_wrap.smooth_ellipsoid(p1, p2, self.dimensions, self.wrap_axis, self.wrap_sign)

    def wrap_line(self, p1: Array, p2: Array, *, single: bool, method: str, compiled: bool) -> WrapResult:
        return wrap.wrap_ellipsoid(p1, p2, self.dimensions, self.wrap_axis, self.wrap_sign, method.strip().lower(),
                                   compiled=compiled)

    def size_properties(self) -> dict[str, str]:
        return {"dimensions": " ".join(_num_text(v) for v in self.dimensions)}


@dataclass(frozen=True, eq=False)
class WrapTorus(WrapObject):
    """OpenSim ``WrapTorus``: centre circle of ``outer_radius`` in the frame's xy plane, tube of
    ``inner_radius`` (m). OpenSim wraps over a cylinder of the tube's radius placed at a point of
    the centre circle that MINPACK's ``lmdif`` finds (see :mod:`~iliopsoas.mechanics.wrap_torus`);
    there is no smooth-mode algorithm for it."""

    inner_radius: float = 0.01
    outer_radius: float = 0.05

    type: ClassVar[str] = "WrapTorus"
    #: its cylinder's tangent refinement runs up to 100 NumPy steps; the compiled one pays off at once
    kernel_min_poses: ClassVar[int] = 1

    def size_vector(self) -> tuple[float, float, float]:
        return (float(self.inner_radius), float(self.outer_radius), 0.0)

    def wrap_line(self, p1: Array, p2: Array, *, single: bool, method: str, compiled: bool) -> WrapResult:
        return wrap_torus.wrap_torus(p1, p2, self.inner_radius, self.outer_radius, self.wrap_axis, self.wrap_sign,
                                     single, compiled=compiled)

    def size_properties(self) -> dict[str, str]:
        return {"inner_radius": _num_text(self.inner_radius), "outer_radius": _num_text(self.outer_radius)}


#: the values of ``Model.wrapping`` (and of ``load_osim(..., wrapping=...)``)
WRAPPING_MODES = ("opensim", "smooth")


def with_wrapping(model: Model, wrapping: str) -> Model:
    """The same model computed with another wrapping mode (``"opensim"`` or ``"smooth"``); a new
    :class:`Model` (``model`` itself is returned when it already has that mode)."""
    if wrapping == model.wrapping:
        return model
    return replace(model, wrapping=wrapping)


#: OpenSim class name -> wrap surface class
WRAP_SURFACES: dict[str, type[WrapObject]] = {
    c.type: c for c in (WrapCylinder, WrapSphere, WrapEllipsoid, WrapTorus)
}


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
class PathForce(Muscle):
    """A passive force along a path: OpenSim's ``Ligament`` or ``PathSpring``.

    ``Ligament``: tension ``pcsa_force * force_length_curve(L / resting_length)`` when taut, else 0.
    ``PathSpring``: tension ``stiffness * max(L - resting_length, 0) * (1 + dissipation * dL/dt)``.
    """

    resting_length: float = 0.0
    pcsa_force: float = 0.0
    force_length_curve: Function | None = None
    stiffness: float = 0.0
    dissipation: float = 0.0


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
    #: ligaments and path springs (their paths are computed like the muscles'; see path_forces.py)
    path_forces: tuple[PathForce, ...] = ()
    #: how paths wrap: ``"opensim"`` (OpenSim 4.6's algorithms, its numbers to round-off) or
    #: ``"smooth"`` (the exact shortest path, C¹ in the pose; see :mod:`~iliopsoas.mechanics.smooth_wrap`)
    wrapping: str = "opensim"

    def __post_init__(self) -> None:
        if self.wrapping not in WRAPPING_MODES:
            raise ValueError(f"wrapping: expected one of {', '.join(map(repr, WRAPPING_MODES))}, "
                             f"got {self.wrapping!r}")
        if self.wrapping == "smooth":
            for m in (*self.muscles, *self.path_forces):
                for w in m.wraps:
                    wo = self.wrap_objects[w.wrap_object]
                    if wo.smooth_code < 0:
                        raise ValueError(f"wrapping='smooth': path {m.name!r} wraps over {wo.type} {wo.name!r}, "
                                         "which has no smooth-mode algorithm; use wrapping='opensim'")

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
        q = np.array([c.default_value for c in self.coordinates], dtype=float)
        for cp in self.coupler_order:
            q[cp.dependent] = (cp.scale_factor * cp.function.value(q[cp.independent: cp.independent + 1]))[0]
        return frozen_array(q)

    @cached_property
    def coupler_order(self) -> tuple[Coupler, ...]:
        """The couplers in the order they must be applied: a coupler whose independent coordinate is
        itself dependent comes after the coupler that sets it. ``ValueError`` if they form a cycle."""
        pending = list(self.couplers)
        done: list[Coupler] = []
        deps = {cp.dependent for cp in pending}
        resolved: set[int] = set()
        while pending:
            ready = [cp for cp in pending if cp.independent not in deps or cp.independent in resolved]
            if not ready:
                raise ValueError(f"coordinate couplers of model {self.name!r} form a cycle")
            for cp in pending:  # file order within a pass, as each becomes ready
                if cp.independent not in deps or cp.independent in resolved:
                    done.append(cp)
                    resolved.add(cp.dependent)
            pending = [cp for cp in pending if cp not in done]
        return tuple(done)

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
