"""Read (and write) OpenSim ``.osim`` model files.

Parsing is done with defusedxml (entity declarations and external entities are refused) and
records the line of every element, so errors name the element, its ``name`` and its line.

``load_osim(path, strict=True)`` understands what the models used by this project need: bodies
and ``PhysicalOffsetFrame``s; ``CustomJoint`` (SpatialTransform with Constant, LinearFunction,
SimmSpline, PolynomialFunction, MultiplierFunction), ``PinJoint``, ``UniversalJoint``,
``WeldJoint``, ``SliderJoint``, ``GimbalJoint``, ``PlanarJoint``; ``CoordinateCouplerConstraint``;
``PathPoint``, ``ConditionalPathPoint``, ``MovingPathPoint``; ``WrapCylinder``,
``WrapSphere``, ``WrapEllipsoid``, ``WrapTorus``; the path geometry of ``Millard2012EquilibriumMuscle``, ``Thelen2003Muscle``
and ``DeGrooteFregly2016Muscle``. Anything else that changes kinematics or paths makes strict
mode fail; lenient mode (``strict=False``) drops it and lists it in ``Model.skipped``.
Components that do not change kinematics or paths (markers, contact geometry, coordinate
actuators, contact forces, controllers, probes) are ignored in both modes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from iliopsoas.mechanics.functions import (
    Constant,
    Function,
    LinearFunction,
    MultiplierFunction,
    PiecewiseLinearFunction,
    PolynomialFunction,
    SimmSpline,
)
from iliopsoas.mechanics.model import (
    WRAP_SURFACES,
    WRAPPING_MODES,
    Body,
    Coordinate,
    Coupler,
    Joint,
    Model,
    Muscle,
    PathForce,
    PathPoint,
    PathWrap,
    WrapObject,
    frozen_array,
    rotation_body_xyz,
)
from iliopsoas.mechanics.osim_upgrade import upgrade_3x
from iliopsoas.mechanics.osim_write import write_osim
from iliopsoas.mechanics.osim_xml import (
    LIMITS,
    Doc,
    OsimError,
    OsimLimits,
    child_float,
    floats,
    parse_xml,
    text,
)

__all__ = ["LIMITS", "OsimError", "OsimLimits", "load_osim", "parse_xml", "write_osim"]

SUPPORTED_MUSCLES = ("Millard2012EquilibriumMuscle", "Thelen2003Muscle", "DeGrooteFregly2016Muscle")
# Path actuators whose path geometry is OpenSim's GeometryPath but whose force model this engine
# does not reproduce: loaded for lengths and moment arms; the model then has no muscle parameters.
PATH_ONLY_MUSCLES = ("Schutte1993Muscle_Deprecated", "Delp1990Muscle_Deprecated")
# Passive path forces: kept apart from the muscles, in Model.path_forces.
PATH_FORCES = ("Ligament", "PathSpring")
SUPPORTED_JOINTS = (
    "CustomJoint",
    "PinJoint",
    "UniversalJoint",
    "WeldJoint",
    "SliderJoint",
    "GimbalJoint",
    "PlanarJoint",
    "FreeJoint",
    "BallJoint",
)
# Transform axes (0-2 rotations, 3-5 translations) driven, one each, by the coordinates of the
# joints whose spatial transform is fixed by their type.
_BUILTIN_JOINT_AXES: dict[str, tuple[int, ...]] = {
    "PinJoint": (2,),
    "UniversalJoint": (0, 1),
    "WeldJoint": (),
    "SliderJoint": (3,),
    "GimbalJoint": (0, 1, 2),
    "PlanarJoint": (2, 3, 4),
    # body-fixed X-Y-Z rotations (OpenSim sets Simbody's Euler-angle mode), then translations in F
    "FreeJoint": (0, 1, 2, 3, 4, 5),
    "BallJoint": (0, 1, 2),
}  # (FreeJoint and BallJoint's speeds are angular velocities: see kinematics.coupling_vectors)
SUPPORTED_WRAPS = tuple(WRAP_SURFACES)
SUPPORTED_FUNCTIONS = (
    "Constant",
    "LinearFunction",
    "SimmSpline",
    "PolynomialFunction",
    "MultiplierFunction",
    "PiecewiseLinearFunction",
)
# Forces that do not alter kinematics or muscle paths: ignored without a word in both modes.
IGNORED_FORCES = (
    "CoordinateActuator",
    "PointActuator",
    "TorqueActuator",
    "ActivationCoordinateActuator",
    "SmoothSphereHalfSpaceForce",
    "HuntCrossleyForce",
    "ElasticFoundationForce",
    "CoordinateLimitForce",
    "SpringGeneralizedForce",
    "ExpressionBasedCoordinateForce",
)



_text = text


def _bool(el: ET.Element | None, default: bool) -> bool:
    t = _text(el).lower()
    if not t:
        return default
    return t in ("true", "1")


def _objects(el: ET.Element | None) -> list[ET.Element]:
    if el is None:
        return []
    objs = el.find("objects")
    return list(objs) if objs is not None else []


def _last(path: str) -> str:
    return path.rstrip("/").split("/")[-1]


class _Unsupported(OsimError):
    """A part the engine does not reproduce; the message names it (file, line, element)."""


class _Loader:
    def __init__(self, root: ET.Element, doc: Doc, strict: bool, limits: OsimLimits = LIMITS) -> None:
        self.doc = doc
        self.strict = strict
        self.limits = limits
        self.skipped: list[str] = []
        self.ignored: list[str] = []
        model_el = root.find("Model") if root.tag == "OpenSimDocument" else root
        if model_el is None or model_el.tag != "Model":
            raise OsimError(f"{doc.path}: no <Model> element (is this an OpenSim .osim file?)")
        version = root.get("Version", "")
        self.upgraded = False
        if version and version.isdigit() and int(version) < 20000:
            raise OsimError(
                f"{doc.path}: OpenSim document version {version} (before 2.0) is not supported; "
                "open and save it in OpenSim 4 first"
            )
        if version and version.isdigit() and int(version) < 40000:
            upgrade_3x(model_el)  # as OpenSim 4 does when it opens a 3.x file
            self.upgraded = True
        self.model_el = model_el
        self.bodies: list[Body] = [Body("ground")]
        self.body_index: dict[str, int] = {"ground": 0}
        self.frames: dict[str, tuple[int, np.ndarray, np.ndarray]] = {"/ground": (0, np.eye(3), np.zeros(3))}
        self.coordinates: list[Coordinate] = []
        self.coord_index: dict[str, int] = {}
        self._pending: dict[str, ET.Element] = {}  # offset frames not yet resolved, by path
        self._by_last: defaultdict[str, set[str]] = defaultdict(set)  # frame paths by their last segment
        self._by_last["ground"].add("/ground")
        self.skipped_wraps: dict[str, str] = {}  # name -> type of wrap objects left out
        self.undriven: dict[int, str] = {}  # dependent coordinates whose coupler was left out -> its name
        self.euler_coordinates: set[int] = set()  # rotational coordinates of Free and Ball joints
        self.path_forces: list[PathForce] = []

    def limit(self, count: int, what: str, bound: int, el: ET.Element | None = None) -> None:
        """Refuse a model holding more than ``bound`` of ``what`` (see :class:`OsimLimits`)."""
        if count > bound:
            msg = f"more than {bound:,} {what} (the limit for one model file)"
            raise self.doc.error(el, msg) if el is not None else OsimError(f"{self.doc.path}: {msg}")

    def vec(self, owner: ET.Element, tag: str, n: int, kind: str, default: np.ndarray | None = None) -> np.ndarray:
        """``n`` checked numbers from ``owner``'s child ``<tag>`` (``default`` when absent)."""
        el = owner.find(tag)
        if el is None and default is not None:
            return default
        return floats(self.doc, el, n, what=tag, kind=kind, owner=owner)

    def skip(self, el: ET.Element, why: str) -> None:
        msg = f"{self.doc.where(el)}: {why}"
        if self.strict:
            raise OsimError(msg + " (load with strict=False to skip it)")
        self.skipped.append(msg)

    def skip_for(self, el: ET.Element, what: str, cause: _Unsupported) -> None:
        """Skip ``el`` (a ``what``) because a part of it is unsupported (``cause``)."""
        if self.strict:
            raise OsimError(f"{cause} (load with strict=False to skip it)")
        self.skipped.append(f"{self.doc.where(el)}: {what} skipped: {cause}")

    # ------------------------------------------------------------------------------ functions
    def function(self, el: ET.Element) -> Function:
        tag = el.tag
        if tag == "Constant":
            return Constant(child_float(self.doc, el, "value", 0.0))
        if tag == "LinearFunction":
            c = floats(self.doc, el.find("coefficients"), what="coefficients", owner=el)
            if c.size != 2:
                raise self.doc.error(el, f"LinearFunction needs 2 coefficients, got {c.size}")
            return LinearFunction(float(c[0]), float(c[1]))
        if tag in ("SimmSpline", "PiecewiseLinearFunction"):
            x = floats(self.doc, el.find("x"), what="x", owner=el)
            y = floats(self.doc, el.find("y"), what="y", owner=el)
            try:
                return SimmSpline(x, y) if tag == "SimmSpline" else PiecewiseLinearFunction(x, y)
            except ValueError as exc:
                raise self.doc.error(el, str(exc)) from None
        if tag == "PolynomialFunction":
            return PolynomialFunction(floats(self.doc, el.find("coefficients"), what="coefficients", owner=el))
        if tag == "MultiplierFunction":
            inner_holder = el.find("function")
            inner = list(inner_holder) if inner_holder is not None else []
            if not inner:
                raise self.doc.error(el, "MultiplierFunction has no inner <function>")
            return MultiplierFunction(self.function(inner[0]), child_float(self.doc, el, "scale", 1.0, kind="scale"))
        raise _Unsupported(f"{self.doc.where(el)}: unsupported function type {tag} "
                           f"(supported: {', '.join(SUPPORTED_FUNCTIONS)})")

    # -------------------------------------------------------------------------------- frames
    def load_bodies(self) -> None:
        ground = self.model_el.find("Ground")
        if ground is None:
            ground = self.model_el.find("ground")
        if ground is not None:
            self._collect_frames(ground, "/ground", 0)
        for b in _objects(self.model_el.find("BodySet")):
            if b.tag != "Body":
                self.skip(b, f"unsupported body type {b.tag}")
                continue
            name = b.get("name")
            if not name:
                raise self.doc.error(b, "body without a name")
            if name in self.body_index:
                raise self.doc.error(b, f"duplicate body name {name!r}")
            self.limit(len(self.bodies), "bodies", self.limits.max_bodies, b)
            body = Body(
                name=name,
                mass=child_float(self.doc, b, "mass", 0.0, kind="mass"),
                mass_center=frozen_array(self.vec(b, "mass_center", 3, "length", np.zeros(3))),
                inertia=frozen_array(self.vec(b, "inertia", 6, "inertia", np.zeros(6))),
            )
            self.body_index[name] = len(self.bodies)
            self.bodies.append(body)
            self.frames[f"/bodyset/{name}"] = (len(self.bodies) - 1, np.eye(3), np.zeros(3))
            self._by_last[name].add(f"/bodyset/{name}")
            self._collect_frames(b, f"/bodyset/{name}", len(self.bodies) - 1)

    def _collect_frames(self, owner: ET.Element, owner_path: str, body: int) -> None:
        for holder in ("components", "frames"):
            for fr in owner.findall(holder):
                for el in list(fr):
                    if el.tag == "PhysicalOffsetFrame":
                        path = f"{owner_path}/{el.get('name')}"
                        self._pending.setdefault(path, el)
                        self._by_last[_last(path)].add(path)
                        self.limit(len(self._pending), "offset frames", self.limits.max_frames, el)

    def _candidate(self, ref: str, ctx: str) -> str | None:
        """The known (resolved or pending) frame path that the socket path ``ref`` names from ``ctx``."""
        ref = ref.strip()
        cands: list[str] = []
        if ref.startswith("/"):
            cands.append(ref)
        else:
            parts = ctx.rstrip("/").split("/")
            for seg in ref.split("/"):
                if seg == "..":
                    parts = parts[:-1]
                elif seg and seg != ".":
                    parts.append(seg)
            cands.append("/".join(parts) or "/")
            ctx_parts = ctx.rstrip("/").split("/")
            cands.append("/".join(ctx_parts[:-1] + [s for s in ref.split("/") if s not in ("..", ".")]))
        for c in cands:
            if c in self.frames or c in self._pending:
                return c
        last = _last(ref)
        if last in self.body_index:
            return f"/bodyset/{last}" if last != "ground" else "/ground"
        matches = self._by_last.get(last, set())
        if len(matches) == 1:
            return next(iter(matches))
        return None

    def resolve_frame(self, ref: str, ctx: str, el: ET.Element) -> tuple[int, np.ndarray, np.ndarray]:
        """Body index, R_BF and p_BF of the frame ``ref`` (a socket path) seen from ``ctx``.

        Chains of offset frames are resolved without recursion (a chain may be as long as the
        number of frames), and a cycle is an error naming one of its frames.
        """
        path = self._candidate(ref, ctx)
        if path is None:
            raise self.doc.error(el, f"refers to unknown frame or body {ref.strip()!r}")
        stack = [path]
        on_stack = {path}
        while stack:
            cur = stack[-1]
            if cur in self.frames:
                stack.pop()
                on_stack.discard(cur)
                continue
            fel = self._pending[cur]
            parent = _text(fel.find("socket_parent"))
            if not parent:
                raise self.doc.error(fel, "PhysicalOffsetFrame without <socket_parent>")
            ppath = self._candidate(parent, cur)
            if ppath is None:
                raise self.doc.error(fel, f"refers to unknown frame or body {parent!r}")
            if ppath not in self.frames:
                if ppath in on_stack:
                    raise self.doc.error(fel, "offset frames form a cycle")
                stack.append(ppath)
                on_stack.add(ppath)
                continue
            b, r0, p0 = self.frames[ppath]
            tr = self.vec(fel, "translation", 3, "length", np.zeros(3))
            rr = rotation_body_xyz(self.vec(fel, "orientation", 3, "angle", np.zeros(3)))
            self.frames[cur] = (b, r0 @ rr, p0 + r0 @ tr)
            stack.pop()
            on_stack.discard(cur)
        return self.frames[path]

    # -------------------------------------------------------------------------------- joints
    def load_joints(self) -> list[Joint]:
        raw: list[tuple[ET.Element, str]] = []
        for j in _objects(self.model_el.find("JointSet")):
            raw.append((j, f"/jointset/{j.get('name')}"))
            self._collect_frames(j, f"/jointset/{j.get('name')}", -1)
        self.limit(len(raw), "joints", self.limits.max_joints)
        joints_raw: list[tuple[ET.Element, str]] = []
        for j, jpath in raw:
            if j.tag not in SUPPORTED_JOINTS:
                self.skip(j, f"unsupported joint type {j.tag} (supported: {', '.join(SUPPORTED_JOINTS)})")
                continue
            joints_raw.append((j, jpath))
        # coordinates first (joint order of the file), so that indices follow the file
        for j, _ in joints_raw:
            coords_el = j.find("coordinates")
            for c in list(coords_el) if coords_el is not None else []:
                if c.tag != "Coordinate":
                    continue
                cname = c.get("name")
                if not cname:
                    raise self.doc.error(c, "coordinate without a name")
                if cname in self.coord_index:
                    raise self.doc.error(c, f"duplicate coordinate name {cname!r}")
                rng = c.find("range")
                # OpenSim's defaults: range -10 .. 10, not clamped
                r = self.vec(c, "range", 2, "coordinate", np.array([-10.0, 10.0]))
                if r[0] > r[1]:
                    raise self.doc.error(rng if rng is not None else c, f"range minimum {r[0]:g} exceeds its maximum {r[1]:g}", c)
                self.limit(len(self.coordinates) + 1, "coordinates", self.limits.max_coordinates, c)
                mt = _text(c.find("motion_type")).lower()
                self.coord_index[cname] = len(self.coordinates)
                self.coordinates.append(
                    Coordinate(
                        name=cname,
                        joint=j.get("name", ""),
                        motion_type=mt or "",
                        default_value=child_float(self.doc, c, "default_value", 0.0, kind="coordinate"),
                        range=(float(r[0]), float(r[1])),
                        clamped=_bool(c.find("clamped"), False),
                        locked=_bool(c.find("locked"), False),
                    )
                )
        joints: list[Joint] = []
        for j, jpath in joints_raw:
            joint = self._joint(j, jpath)
            if joint is not None:
                joints.append(joint)
        return self._topological(joints)

    def _joint(self, j: ET.Element, jpath: str) -> Joint | None:
        if j.get("reversed_3x") == "true":
            self.skip(j, "reversed joints (<reverse>true</reverse>) are not supported")
            return None
        pf = _text(j.find("socket_parent_frame")) or _text(j.find("parent_body"))
        cf = _text(j.find("socket_child_frame"))
        if not pf or not cf:
            raise self.doc.error(j, "joint without <socket_parent_frame>/<socket_child_frame>")
        pb, rpf, ppf = self.resolve_frame(pf, jpath, j)
        cb, rbm, pbm = self.resolve_frame(cf, jpath, j)
        if cb == 0:
            raise self.doc.error(j, "reversed joints (child frame on ground) are not supported")
        coords_el = j.find("coordinates")
        own = [c.get("name", "") for c in (list(coords_el) if coords_el is not None else []) if c.tag == "Coordinate"]
        own_idx = tuple(self.coord_index[c] for c in own)
        zero = Constant(0.0)
        ident = LinearFunction(1.0, 0.0)
        ex, ey, ez = np.eye(3)
        axes = [ex, ey, ez, ex, ey, ez]
        funcs: list[Function] = [zero] * 6
        acoords = [-1] * 6
        coord_types = {}
        fixed = _BUILTIN_JOINT_AXES.get(j.tag)
        if fixed is not None:
            if len(own) != len(fixed):
                raise self.doc.error(j, f"{j.tag} needs {len(fixed)} coordinates, has {len(own)}")
            for i, ci in zip(fixed, own_idx, strict=True):
                funcs[i], acoords[i] = ident, ci
                coord_types[ci] = "rotational" if i < 3 else "translational"
        elif j.tag == "CustomJoint":
            st = j.find("SpatialTransform")
            if st is None:
                raise self.doc.error(j, "CustomJoint without <SpatialTransform>")
            names = ["rotation1", "rotation2", "rotation3", "translation1", "translation2", "translation3"]
            by_name = {ta.get("name"): ta for ta in st.findall("TransformAxis")}
            for i, nm in enumerate(names):
                ta = by_name.get(nm)
                if ta is None:
                    continue
                ax = self.vec(ta, "axis", 3, "length")
                norm = float(np.linalg.norm(ax))
                if norm == 0.0:
                    raise self.doc.error(ta, "transform axis of zero length")
                axes[i] = ax / norm if i < 3 else ax
                cn = _text(ta.find("coordinates")).split()
                fel = [c for c in list(ta) if c.tag in SUPPORTED_FUNCTIONS or c.tag.endswith("Function") or c.tag in ("GCVSpline", "PiecewiseConstantFunction", "Sine", "StepFunction")]
                fn: Function = Constant(0.0)
                if fel:
                    try:
                        fn = self.function(fel[0])
                    except _Unsupported as exc:
                        self.skip_for(j, "joint", exc)
                        return None
                elif cn:
                    fn = ident
                if len(cn) > 1:
                    raise self.doc.error(ta, "transform axes driven by several coordinates are not supported")
                if cn:
                    if cn[0] not in self.coord_index:
                        raise self.doc.error(ta, f"refers to unknown coordinate {cn[0]!r}")
                    acoords[i] = self.coord_index[cn[0]]
                    if not fn.is_constant():
                        coord_types.setdefault(acoords[i], "rotational" if i < 3 else "translational")
                funcs[i] = fn
        if j.tag in ("FreeJoint", "BallJoint"):
            self.euler_coordinates.update(own_idx[:3])
        for ci in own_idx:
            c = self.coordinates[ci]
            if not c.motion_type:
                object.__setattr__(c, "motion_type", coord_types.get(ci, "rotational"))
        return Joint(
            name=j.get("name", ""),
            type=j.tag,
            parent=pb,
            child=cb,
            parent_rotation=frozen_array(rpf),
            parent_translation=frozen_array(ppf),
            child_rotation=frozen_array(rbm),
            child_translation=frozen_array(pbm),
            axes=frozen_array(np.array(axes)),
            functions=tuple(funcs),
            axis_coordinates=tuple(acoords),
            coordinates=own_idx,
        )

    def _topological(self, joints: list[Joint]) -> list[Joint]:
        """Joints ordered parents first: passes over the file order, each taking every joint whose
        parent body is already placed (a file in topological order is kept as it is)."""
        seen_child: set[int] = set()
        for jt in joints:
            if jt.child in seen_child:
                raise OsimError(f"{self.doc.path}: body {self.bodies[jt.child].name!r} is the child of two joints (closed loops are not supported)")
            seen_child.add(jt.child)
        placed = {0}
        out: list[Joint] = []
        pending = list(joints)
        while pending:
            rest: list[Joint] = []
            for jt in pending:
                if jt.parent in placed:
                    out.append(jt)
                    placed.add(jt.child)
                else:
                    rest.append(jt)
            if len(rest) == len(pending):
                names = ", ".join(j.name for j in pending)
                if self.strict:
                    raise OsimError(f"{self.doc.path}: joints not connected to ground: {names}")
                self.skipped.append(f"{self.doc.path}: joints not connected to ground (skipped, with the bodies "
                                    f"they carry): {names}")
                break
            pending = rest
        return out

    # --------------------------------------------------------------------------- constraints
    def load_couplers(self) -> list[Coupler]:
        out: list[Coupler] = []
        for c in _objects(self.model_el.find("ConstraintSet")):
            if c.tag != "CoordinateCouplerConstraint":
                self.skip(c, f"unsupported constraint type {c.tag}")
                continue
            if not _bool(c.find("isEnforced"), True):
                continue
            ind = _text(c.find("independent_coordinate_names")).split()
            dep = _text(c.find("dependent_coordinate_name"))
            if len(ind) != 1:
                self.skip(c, "couplers with several independent coordinates are not supported")
                if dep in self.coord_index:
                    self.undriven[self.coord_index[dep]] = c.get("name", "")
                continue
            for nm in ind + [dep]:
                if nm not in self.coord_index:
                    raise self.doc.error(c, f"refers to unknown coordinate {nm!r}")
            holder = c.find("coupled_coordinates_function")
            fels = list(holder) if holder is not None else []
            if not fels:
                raise self.doc.error(c, "missing <coupled_coordinates_function>")
            try:
                fn = self.function(fels[0])
            except _Unsupported as exc:
                self.skip_for(c, "coupler", exc)
                self.undriven[self.coord_index[dep]] = c.get("name", "")
                continue
            out.append(
                Coupler(
                    name=c.get("name", ""),
                    dependent=self.coord_index[dep],
                    independent=self.coord_index[ind[0]],
                    function=fn,
                    scale_factor=child_float(self.doc, c, "scale_factor", 1.0, kind="scale"),
                )
            )
        return out

    # ---------------------------------------------------------------------------------- wraps
    def load_wraps(self) -> list[WrapObject]:
        out: list[WrapObject] = []
        owners: list[tuple[ET.Element, int]] = []
        ground = self.model_el.find("Ground")
        if ground is not None:
            owners.append((ground, 0))
        for b in _objects(self.model_el.find("BodySet")):
            if b.get("name") in self.body_index:
                owners.append((b, self.body_index[b.get("name", "")]))
        for owner, bi in owners:
            for w in _objects(owner.find("WrapObjectSet")):
                if w.tag not in SUPPORTED_WRAPS:
                    self.skip(w, f"unsupported wrap object type {w.tag}")
                    self.skipped_wraps[w.get("name", "")] = w.tag
                    continue
                self.limit(len(out) + 1, "wrap objects", self.limits.max_wrap_objects, w)
                xyz = self.vec(w, "xyz_body_rotation", 3, "angle", np.zeros(3))
                tr = self.vec(w, "translation", 3, "length", np.zeros(3))
                quad = _text(w.find("quadrant"), "all") or "all"
                axis, sign = _quadrant(quad)
                if sign is None:
                    raise self.doc.error(w, f"unknown quadrant {quad!r}")
                if w.tag == "WrapSphere":
                    child_float(self.doc, w, "radius", kind="positive_length")  # present and not negative
                extra = self._torus_radii(w) if w.tag == "WrapTorus" else {}
                out.append(
                    WRAP_SURFACES[w.tag](
                        name=w.get("name", ""),
                        body=bi,
                        xyz_body_rotation=frozen_array(xyz),
                        translation=frozen_array(tr),
                        rotation=frozen_array(rotation_body_xyz(xyz)),
                        quadrant=quad,
                        wrap_axis=axis,
                        wrap_sign=sign,
                        radius=(child_float(self.doc, w, "radius", 0.0, kind="positive_length")
                                if w.tag in ("WrapCylinder", "WrapSphere") else 0.0),
                        length=child_float(self.doc, w, "length", 1.0, kind="positive_length") if w.tag == "WrapCylinder" else 0.0,
                        dimensions=frozen_array(self.vec(w, "dimensions", 3, "positive_length", np.zeros(3))),
                        active=_bool(w.find("active"), True),
                        **extra,
                    )
                )
        names = [w.name for w in out]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise OsimError(f"{self.doc.path}: duplicate wrap object names {dup}")
        return out

    def _torus_radii(self, w: ET.Element) -> dict[str, float]:
        """A WrapTorus' radii (OpenSim's defaults 0.01 / 0.05 m when absent), checked as OpenSim
        checks them: both positive and the outer (centre circle) larger than the inner (tube)."""
        inner = child_float(self.doc, w, "inner_radius", 0.01, kind="positive_length")
        outer = child_float(self.doc, w, "outer_radius", 0.05, kind="positive_length")
        if not 0.0 < inner < outer:
            raise self.doc.error(w, f"inner_radius {inner!r} and outer_radius {outer!r}: expected "
                                    "0 < inner_radius < outer_radius (m)")
        return {"inner_radius": inner, "outer_radius": outer}

    # -------------------------------------------------------------------------------- muscles
    def load_muscles(self, wraps: list[WrapObject]) -> tuple[list[Muscle], list[ET.Element]]:
        wrap_index = {w.name: i for i, w in enumerate(wraps)}
        muscles: list[Muscle] = []
        elements: list[ET.Element] = []
        for f in _objects(self.model_el.find("ForceSet")):
            gp = f.find("GeometryPath")
            if gp is None:
                if f.tag not in IGNORED_FORCES:
                    self.ignored.append(f"{f.tag} {f.get('name')!r}")
                continue
            if f.tag in PATH_FORCES:
                self.limit(len(muscles) + len(self.path_forces) + 1, "path actuators", self.limits.max_path_actuators, f)
                pf = self._muscle(f, gp, wrap_index)
                if pf is not None:
                    self.path_forces.append(self._path_force(f, pf))
                continue
            if f.tag not in SUPPORTED_MUSCLES + PATH_ONLY_MUSCLES:
                self.skip(f, f"unsupported path actuator type {f.tag} "
                             f"(supported: {', '.join(SUPPORTED_MUSCLES + PATH_ONLY_MUSCLES)})")
                continue
            self.limit(len(muscles) + 1, "path actuators", self.limits.max_path_actuators, f)
            m = self._muscle(f, gp, wrap_index)
            if m is not None:
                muscles.append(m)
                elements.append(f)
        return muscles, elements

    def _path_force(self, f: ET.Element, path: Muscle) -> PathForce:
        """A Ligament's or PathSpring's properties around its path (OpenSim's defaults when absent)."""
        if f.tag == "Ligament":
            curve_el = next((c for c in f if c.get("name") == "force_length_curve"), None)
            if curve_el is None:
                raise self.doc.error(f, "Ligament without a force_length_curve")
            try:
                curve = self.function(curve_el)
            except _Unsupported as exc:
                raise OsimError(f"{exc} (the force-length curve of Ligament {path.name!r})") from None
            return PathForce(path.name, f.tag, path.points, path.wraps, path.xml,
                             resting_length=child_float(self.doc, f, "resting_length", 0.0, kind="positive_length"),
                             pcsa_force=child_float(self.doc, f, "pcsa_force", 0.0, kind="stiffness"),
                             force_length_curve=curve)
        return PathForce(path.name, f.tag, path.points, path.wraps, path.xml,
                         resting_length=child_float(self.doc, f, "resting_length", 0.0, kind="positive_length"),
                         stiffness=child_float(self.doc, f, "stiffness", 0.0, kind="stiffness"),
                         dissipation=child_float(self.doc, f, "dissipation", 0.0, kind="stiffness"))

    def _muscle(self, f: ET.Element, gp: ET.Element, wrap_index: dict[str, int]) -> Muscle | None:
        name = f.get("name", "")
        points: list[PathPoint] = []
        ctx = f"/forceset/{name}/{gp.get('name', 'path')}"
        point_els = _objects(gp.find("PathPointSet"))
        self.limit(len(point_els), f"path points in {name!r}", self.limits.max_points_per_path, f)
        wrap_els = _objects(gp.find("PathWrapSet"))
        self.limit(len(wrap_els), f"path wraps in {name!r}", self.limits.max_wraps_per_path, f)
        for pt in point_els:
            parent = _text(pt.find("socket_parent_frame")) or _text(pt.find("body"))
            if pt.tag not in ("PathPoint", "ConditionalPathPoint", "MovingPathPoint"):
                self.skip(pt, f"unsupported path point type {pt.tag} in muscle {name!r}")
                return None
            if not parent:
                raise self.doc.error(pt, "path point without <socket_parent_frame>")
            b, rbf, pbf = self.resolve_frame(parent, ctx, pt)
            loc = self.vec(pt, "location", 3, "length", np.zeros(3))
            if pt.tag == "PathPoint":
                points.append(PathPoint(pt.get("name", ""), b, frozen_array(rbf @ loc + pbf)))
            elif pt.tag == "ConditionalPathPoint":
                cref = _text(pt.find("socket_coordinate")) or _text(pt.find("coordinate"))
                if _last(cref) not in self.coord_index:
                    raise self.doc.error(pt, f"refers to unknown coordinate {cref!r}")
                rng = self.vec(pt, "range", 2, "coordinate")
                points.append(
                    PathPoint(
                        pt.get("name", ""), b, frozen_array(rbf @ loc + pbf), "conditional",
                        self.coord_index[_last(cref)], (float(rng[0]), float(rng[1])),
                    )
                )
            else:
                if not (np.allclose(rbf, np.eye(3)) and not np.any(pbf)):
                    self.skip(pt, "MovingPathPoint on an offset frame is not supported")
                    return None
                refs = {_last(_text(pt.find(f"socket_{a}_coordinate"))) for a in "xyz"} - {""}
                if len(refs) != 1 or next(iter(refs)) not in self.coord_index:
                    raise self.doc.error(pt, "MovingPathPoint must use one known coordinate for x, y and z")
                if self.coord_index[next(iter(refs))] in self.euler_coordinates:
                    # OpenSim's moment arm about these (angular-velocity) coordinates treats moving points
                    # in a way this engine does not reproduce
                    self.skip(f, f"MovingPathPoint {pt.get('name', '')!r} is driven by a rotational coordinate of a "
                                 "FreeJoint or BallJoint")
                    return None
                fns: list[Function] = []
                for a in "xyz":
                    holder = pt.find(f"{a}_location")
                    fl = list(holder) if holder is not None else []
                    try:
                        fns.append(self.function(fl[0]) if fl else Constant(0.0))
                    except _Unsupported as exc:
                        self.skip_for(f, "muscle", exc)
                        return None
                points.append(
                    PathPoint(
                        pt.get("name", ""), b, frozen_array(np.zeros(3)), "moving",
                        self.coord_index[next(iter(refs))], (0.0, 0.0), tuple(fns),
                    )
                )
        if len(points) < 2:
            raise self.doc.error(f, f"muscle {name!r} has fewer than 2 path points")
        pws: list[PathWrap] = []
        for pw in wrap_els:
            wname = _text(pw.find("wrap_object"))
            if wname not in wrap_index:
                if wname in self.skipped_wraps:  # strict mode stopped at the wrap object already
                    self.skipped.append(f"{self.doc.where(f)}: muscle {name!r} skipped: its path wraps over the "
                                        f"skipped {self.skipped_wraps[wname]} {wname!r}")
                    return None
                if self.strict:
                    raise self.doc.error(pw, f"refers to unknown wrap object {wname!r}")
                self.skipped.append(f"{self.doc.where(f)}: muscle {name!r} skipped: its path wraps over the unknown "
                                    f"wrap object {wname!r}")
                return None
            rng = self.vec(pw, "range", 2, "index", np.array([-1.0, -1.0]))
            pws.append(PathWrap(wrap_index[wname], int(rng[0]), int(rng[1]), _text(pw.find("method"), "hybrid")))
        return Muscle(name, f.tag, tuple(points), tuple(pws), self.doc.source(f))


def _quadrant(q: str) -> tuple[int, int | None]:
    table = {
        "-x": (0, -1), "x": (0, 1), "+x": (0, 1),
        "-y": (1, -1), "y": (1, 1), "+y": (1, 1),
        "-z": (2, -1), "z": (2, 1), "+z": (2, 1),
        "all": (0, 0), "unassigned": (0, 0),
    }
    return table.get(q.strip().lower(), (0, None))


def load_osim(path: str | Path, *, strict: bool = True, limits: OsimLimits = LIMITS,
              wrapping: str = "opensim") -> Model:
    """Load an OpenSim 4.x ``.osim`` file into an immutable :class:`Model`.

    Parameters
    ----------
    path : the ``.osim`` file.
    strict : when True (default), any component that would change kinematics or muscle paths
        and is not supported raises :class:`OsimError` naming the element, its name and line.
        When False, such components are left out and listed in ``Model.skipped``.
    limits : bounds on the file (size, XML depth and element count, counts of bodies, joints,
        coordinates, frames, wrap objects, path actuators and their points and wraps);
        :data:`LIMITS` by default. A file past one is refused, naming the bound.
    wrapping : ``"opensim"`` (default): paths wrap as OpenSim 4.6 computes them, to round-off.
        ``"smooth"``: the exact shortest path over each wrap surface, C¹ in the pose, with moment
        arms that are the true ``-dL/dq`` (see :mod:`~iliopsoas.mechanics.smooth_wrap`).
        :func:`~iliopsoas.mechanics.model.with_wrapping` switches an existing model.

    Raises
    ------
    OsimError : missing file, malformed or unsafe XML, unknown references, unsupported parts.
    ValueError : ``wrapping`` is not one of ``"opensim"``, ``"smooth"``, or is ``"smooth"`` for a
        model with a path over a surface without a smooth algorithm (``WrapTorus``).
    """
    if wrapping not in WRAPPING_MODES:
        raise ValueError(f"wrapping: expected one of {', '.join(map(repr, WRAPPING_MODES))}, got {wrapping!r}")
    root, doc = parse_xml(path, limits)
    ld = _Loader(root, doc, strict, limits)
    ld.load_bodies()
    joints = ld.load_joints()
    couplers = ld.load_couplers()
    wraps = ld.load_wraps()
    muscles, elements = ld.load_muscles(wraps)
    placed = {0} | {j.child for j in joints}
    loose = [b.name for i, b in enumerate(ld.bodies) if i not in placed]
    if loose and strict:
        raise OsimError(f"{doc.path}: bodies without a joint to ground: {', '.join(loose)}")
    muscles, elements = _drop_dependents(ld, joints, wraps, muscles, elements, placed)
    forces = ld.path_forces
    kept, _ = _drop_dependents(ld, joints, wraps, list(forces), [None] * len(forces), placed)
    path_forces = tuple(pf for pf in forces if pf in kept)
    gravity_el = ld.model_el.find("gravity")
    gravity = floats(doc, gravity_el, 3, kind="gravity") if gravity_el is not None else np.array([0.0, -9.80665, 0.0])
    defaults_el = ld.model_el.find("defaults")
    params = None
    if all(el.tag in SUPPORTED_MUSCLES for el in elements):  # path-only classes: no force model
        try:
            params = _muscle_parameters(elements, list(defaults_el) if defaults_el is not None else [])
        except ValueError as exc:
            raise OsimError(f"{doc.path}: muscle parameters: {exc}") from None
    return Model(
        name=ld.model_el.get("name", Path(path).stem),
        bodies=tuple(ld.bodies),
        joints=tuple(joints),
        coordinates=tuple(ld.coordinates),
        couplers=tuple(couplers),
        wrap_objects=tuple(wraps),
        muscles=tuple(muscles),
        muscle_params=params,
        skipped=tuple(ld.skipped),
        source=str(path),
        gravity=frozen_array(gravity),
        path_forces=path_forces,
        wrapping=wrapping,
    )


def _drop_dependents(ld: _Loader, joints: list[Joint], wraps: list[WrapObject], muscles: list[Any],
                     elements: list[Any], placed: set[int]) -> tuple[list[Any], list[Any]]:
    """Leave out (and name in ``skipped``) every path that depends on something left out: a body
    without a joint to ground, or a coordinate whose coupler was skipped (the path would follow a
    coordinate that nothing drives any more)."""
    def where(mu: Muscle, el: ET.Element | None) -> str:
        return ld.doc.where(el) if el is not None else f"{ld.doc.path}: <{mu.type} name=\"{mu.name}\">"

    def kind(mu: Muscle) -> str:
        return "path force" if isinstance(mu, PathForce) else "muscle"

    moved_by: dict[int, set[int]] = {0: set()}
    for jt in joints:  # parents first
        moved_by[jt.child] = moved_by.get(jt.parent, set()) | {c for c in jt.axis_coordinates if c >= 0}
    keep_m: list[Muscle] = []
    keep_e: list[ET.Element] = []
    for mu, el in zip(muscles, elements, strict=True):
        bodies = {pt.body for pt in mu.points} | {wraps[w.wrap_object].body for w in mu.wraps}
        loose = sorted(ld.bodies[b].name for b in bodies if b not in placed)
        coords = set().union(*(moved_by.get(b, set()) for b in bodies))
        coords |= {pt.coordinate for pt in mu.points if pt.kind != "fixed"}
        undriven = sorted(ld.undriven[c] for c in coords if c in ld.undriven)
        if loose:
            ld.skipped.append(f"{where(mu, el)}: {kind(mu)} {mu.name!r} skipped: it attaches to bodies without a "
                              f"joint to ground: {loose}")
        elif undriven:
            ld.skipped.append(f"{where(mu, el)}: {kind(mu)} {mu.name!r} skipped: its path moves with a coordinate "
                              f"of the skipped coupler(s) {undriven}")
        else:
            keep_m.append(mu)
            keep_e.append(el)
    return keep_m, keep_e


def _muscle_parameters(elements: list[ET.Element], defaults: list[ET.Element]) -> Any:
    """Muscle parameters from the muscle engineer's module, when it is present."""
    try:
        from iliopsoas.mechanics import muscles as muscles_mod
    except ImportError:
        return None
    fn = getattr(muscles_mod, "muscle_parameters_from_xml", None)
    if fn is None:
        return None
    return fn(elements, defaults)
