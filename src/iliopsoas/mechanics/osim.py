"""Read (and write) OpenSim ``.osim`` model files.

Parsing is done with defusedxml (entity declarations and external entities are refused) and
records the line of every element, so errors name the element, its ``name`` and its line.

``load_osim(path, strict=True)`` understands what the models used by this project need: bodies
and ``PhysicalOffsetFrame``s; ``CustomJoint`` (SpatialTransform with Constant, LinearFunction,
SimmSpline, PolynomialFunction, MultiplierFunction), ``PinJoint``, ``UniversalJoint``,
``WeldJoint``, ``SliderJoint``, ``GimbalJoint``, ``PlanarJoint``; ``CoordinateCouplerConstraint``;
``PathPoint``, ``ConditionalPathPoint``, ``MovingPathPoint``; ``WrapCylinder``,
``WrapSphere``, ``WrapEllipsoid``; the path geometry of ``Millard2012EquilibriumMuscle``, ``Thelen2003Muscle``
and ``DeGrooteFregly2016Muscle``. Anything else that changes kinematics or paths makes strict
mode fail; lenient mode (``strict=False``) drops it and lists it in ``Model.skipped``.
Components that do not change kinematics or paths (markers, contact geometry, coordinate
actuators, contact forces, controllers, probes) are ignored in both modes.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from iliopsoas.mechanics.functions import (
    Constant,
    Function,
    LinearFunction,
    MultiplierFunction,
    PolynomialFunction,
    SimmSpline,
)
from iliopsoas.mechanics.model import (
    Body,
    Coordinate,
    Coupler,
    Joint,
    Model,
    Muscle,
    PathPoint,
    PathWrap,
    WrapObject,
    body_xyz_from_rotation,
    frozen_array,
    rotation_body_xyz,
)

SUPPORTED_MUSCLES = ("Millard2012EquilibriumMuscle", "Thelen2003Muscle", "DeGrooteFregly2016Muscle")
SUPPORTED_JOINTS = (
    "CustomJoint",
    "PinJoint",
    "UniversalJoint",
    "WeldJoint",
    "SliderJoint",
    "GimbalJoint",
    "PlanarJoint",
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
}
SUPPORTED_WRAPS = ("WrapCylinder", "WrapSphere", "WrapEllipsoid")
SUPPORTED_FUNCTIONS = (
    "Constant",
    "LinearFunction",
    "SimmSpline",
    "PolynomialFunction",
    "MultiplierFunction",
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


class OsimError(ValueError):
    """A model file that cannot be read; the message names the file, line, element and name."""


@dataclass
class _Doc:
    path: str
    lines: dict[int, int]

    def where(self, el: ET.Element) -> str:
        line = self.lines.get(id(el))
        name = el.get("name")
        label = f"<{el.tag}" + (f' name="{name}"' if name is not None else "") + ">"
        return f"{self.path}:{line if line is not None else '?'}: {label}"

    def error(self, el: ET.Element, msg: str) -> OsimError:
        return OsimError(f"{self.where(el)}: {msg}")


class _LineTreeBuilder(ET.TreeBuilder):
    """A TreeBuilder that records the source line of every element it starts."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: Any = None
        self.lines: dict[int, int] = {}
        self._keep: list[ET.Element] = []

    def start(self, tag: Any, attrs: Any) -> ET.Element:  # type: ignore[override]
        el = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[id(el)] = self.parser.parser.CurrentLineNumber
        self._keep.append(el)
        return el


def parse_xml(path: str | Path) -> tuple[ET.Element, _Doc]:
    """Parse ``path`` safely; returns the root element and a line-number map."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise OsimError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise OsimError(f"{p}: is a directory, not an .osim file") from None
    except OSError as exc:
        raise OsimError(f"{p}: cannot read ({exc.strerror})") from None
    builder = _LineTreeBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as exc:
        raise OsimError(f"{p}: refused unsafe XML ({type(exc).__name__}: {exc})") from None
    except ET.ParseError as exc:
        raise OsimError(f"{p}: malformed XML ({exc})") from None
    return root, _Doc(str(p), builder.lines)


# ----------------------------------------------------------------------------------- helpers
def _text(el: ET.Element | None, default: str = "") -> str:
    if el is None or el.text is None:
        return default
    return el.text.strip()


def _floats(doc: _Doc, el: ET.Element | None, n: int | None = None, what: str = "") -> np.ndarray:
    if el is None:
        raise OsimError(f"{doc.path}: missing <{what}>")
    try:
        vals = np.array([float(v) for v in _text(el).split()], dtype=float)
    except ValueError:
        raise doc.error(el, f"expected numbers, got {_text(el)!r}") from None
    if n is not None and vals.size != n:
        raise doc.error(el, f"expected {n} numbers, got {vals.size}")
    return vals


def _child_float(doc: _Doc, el: ET.Element, tag: str, default: float | None = None) -> float:
    c = el.find(tag)
    if c is None or not _text(c):
        if default is None:
            raise doc.error(el, f"missing <{tag}>")
        return default
    try:
        return float(_text(c))
    except ValueError:
        raise doc.error(c, f"expected a number, got {_text(c)!r}") from None


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


class _Loader:
    def __init__(self, root: ET.Element, doc: _Doc, strict: bool) -> None:
        self.doc = doc
        self.strict = strict
        self.skipped: list[str] = []
        self.ignored: list[str] = []
        model_el = root.find("Model") if root.tag == "OpenSimDocument" else root
        if model_el is None or model_el.tag != "Model":
            raise OsimError(f"{doc.path}: no <Model> element (is this an OpenSim .osim file?)")
        version = root.get("Version", "")
        if version and version.isdigit() and int(version) < 30000:
            raise OsimError(
                f"{doc.path}: OpenSim document version {version} (3.x) is not supported; "
                "open and save it in OpenSim 4 first"
            )
        self.model_el = model_el
        self.bodies: list[Body] = [Body("ground")]
        self.body_index: dict[str, int] = {"ground": 0}
        self.frames: dict[str, tuple[int, np.ndarray, np.ndarray]] = {"/ground": (0, np.eye(3), np.zeros(3))}
        self.coordinates: list[Coordinate] = []
        self.coord_index: dict[str, int] = {}
        self._pending_frames: list[tuple[ET.Element, str]] = []
        self._resolving: set[str] = set()

    def skip(self, el: ET.Element, why: str) -> None:
        msg = f"{self.doc.where(el)}: {why}"
        if self.strict:
            raise OsimError(msg + " (load with strict=False to skip it)")
        self.skipped.append(msg)

    # ------------------------------------------------------------------------------ functions
    def function(self, el: ET.Element) -> Function:
        tag = el.tag
        if tag == "Constant":
            return Constant(_child_float(self.doc, el, "value", 0.0))
        if tag == "LinearFunction":
            c = _floats(self.doc, el.find("coefficients"), what="coefficients")
            if c.size != 2:
                raise self.doc.error(el, f"LinearFunction needs 2 coefficients, got {c.size}")
            return LinearFunction(float(c[0]), float(c[1]))
        if tag == "SimmSpline":
            x = _floats(self.doc, el.find("x"), what="x")
            y = _floats(self.doc, el.find("y"), what="y")
            try:
                return SimmSpline(x, y)
            except ValueError as exc:
                raise self.doc.error(el, str(exc)) from None
        if tag == "PolynomialFunction":
            return PolynomialFunction(_floats(self.doc, el.find("coefficients"), what="coefficients"))
        if tag == "MultiplierFunction":
            inner_holder = el.find("function")
            inner = list(inner_holder) if inner_holder is not None else []
            if not inner:
                raise self.doc.error(el, "MultiplierFunction has no inner <function>")
            return MultiplierFunction(self.function(inner[0]), _child_float(self.doc, el, "scale", 1.0))
        raise self.doc.error(el, f"unsupported function type {tag} (supported: {', '.join(SUPPORTED_FUNCTIONS)})")

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
            mc = b.find("mass_center")
            inertia = b.find("inertia")
            body = Body(
                name=name,
                mass=_child_float(self.doc, b, "mass", 0.0),
                mass_center=frozen_array(_floats(self.doc, mc, 3) if mc is not None else np.zeros(3)),
                inertia=frozen_array(_floats(self.doc, inertia, 6) if inertia is not None else np.zeros(6)),
            )
            self.body_index[name] = len(self.bodies)
            self.bodies.append(body)
            self.frames[f"/bodyset/{name}"] = (len(self.bodies) - 1, np.eye(3), np.zeros(3))
            self._collect_frames(b, f"/bodyset/{name}", len(self.bodies) - 1)

    def _collect_frames(self, owner: ET.Element, owner_path: str, body: int) -> None:
        for holder in ("components", "frames"):
            for fr in owner.findall(holder):
                for el in list(fr):
                    if el.tag == "PhysicalOffsetFrame":
                        self._pending_frames.append((el, f"{owner_path}/{el.get('name')}"))

    def resolve_frame(self, ref: str, ctx: str, el: ET.Element) -> tuple[int, np.ndarray, np.ndarray]:
        """Body index, R_BF and p_BF of the frame ``ref`` (a socket path) seen from ``ctx``."""
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
            hit = self._frame(c, el)
            if hit is not None:
                return hit
        last = _last(ref)
        if last in self.body_index:
            return self.body_index[last], np.eye(3), np.zeros(3)
        matches = [k for k in list(self.frames) + [p for _, p in self._pending_frames] if _last(k) == last]
        if len(set(matches)) == 1:
            hit = self._frame(matches[0], el)
            if hit is not None:
                return hit
        raise self.doc.error(el, f"refers to unknown frame or body {ref!r}")

    def _frame(self, path: str, el: ET.Element) -> tuple[int, np.ndarray, np.ndarray] | None:
        if path in self.frames:
            return self.frames[path]
        for fel, fpath in self._pending_frames:
            if fpath == path:
                if path in self._resolving:
                    raise self.doc.error(fel, "offset frames form a cycle")
                self._resolving.add(path)
                parent = _text(fel.find("socket_parent"))
                if not parent:
                    raise self.doc.error(fel, "PhysicalOffsetFrame without <socket_parent>")
                b, r0, p0 = self.resolve_frame(parent, path, fel)
                t = fel.find("translation")
                o = fel.find("orientation")
                tr = _floats(self.doc, t, 3) if t is not None else np.zeros(3)
                rr = rotation_body_xyz(_floats(self.doc, o, 3)) if o is not None else np.eye(3)
                out = (b, r0 @ rr, p0 + r0 @ tr)
                self.frames[path] = out
                self._resolving.discard(path)
                return out
        return None

    # -------------------------------------------------------------------------------- joints
    def load_joints(self) -> list[Joint]:
        raw: list[tuple[ET.Element, str]] = []
        for j in _objects(self.model_el.find("JointSet")):
            raw.append((j, f"/jointset/{j.get('name')}"))
            self._collect_frames(j, f"/jointset/{j.get('name')}", -1)
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
                r = _floats(self.doc, rng, 2) if rng is not None else np.array([-math.inf, math.inf])
                mt = _text(c.find("motion_type")).lower()
                self.coord_index[cname] = len(self.coordinates)
                self.coordinates.append(
                    Coordinate(
                        name=cname,
                        joint=j.get("name", ""),
                        motion_type=mt or "",
                        default_value=_child_float(self.doc, c, "default_value", 0.0),
                        range=(float(r[0]), float(r[1])),
                        clamped=_bool(c.find("clamped"), True),
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
                ax = _floats(self.doc, ta.find("axis"), 3)
                norm = float(np.linalg.norm(ax))
                if norm == 0.0:
                    raise self.doc.error(ta, "transform axis of zero length")
                axes[i] = ax / norm if i < 3 else ax
                cn = _text(ta.find("coordinates")).split()
                fel = [c for c in list(ta) if c.tag in SUPPORTED_FUNCTIONS or c.tag.endswith("Function") or c.tag in ("GCVSpline", "PiecewiseLinearFunction", "PiecewiseConstantFunction", "Sine", "StepFunction")]
                fn: Function = Constant(0.0)
                if fel:
                    if fel[0].tag not in SUPPORTED_FUNCTIONS:
                        raise self.doc.error(
                            fel[0], f"unsupported function type {fel[0].tag} (supported: {', '.join(SUPPORTED_FUNCTIONS)})"
                        )
                    fn = self.function(fel[0])
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
        placed = {0}
        out: list[Joint] = []
        pending = list(joints)
        seen_child: set[int] = set()
        for jt in joints:
            if jt.child in seen_child:
                raise OsimError(f"{self.doc.path}: body {self.bodies[jt.child].name!r} is the child of two joints (closed loops are not supported)")
            seen_child.add(jt.child)
        while pending:
            progressed = False
            for jt in list(pending):
                if jt.parent in placed:
                    out.append(jt)
                    placed.add(jt.child)
                    pending.remove(jt)
                    progressed = True
            if not progressed:
                names = ", ".join(j.name for j in pending)
                raise OsimError(f"{self.doc.path}: joints not connected to ground: {names}")
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
                continue
            for nm in ind + [dep]:
                if nm not in self.coord_index:
                    raise self.doc.error(c, f"refers to unknown coordinate {nm!r}")
            holder = c.find("coupled_coordinates_function")
            fels = list(holder) if holder is not None else []
            if not fels:
                raise self.doc.error(c, "missing <coupled_coordinates_function>")
            out.append(
                Coupler(
                    name=c.get("name", ""),
                    dependent=self.coord_index[dep],
                    independent=self.coord_index[ind[0]],
                    function=self.function(fels[0]),
                    scale_factor=_child_float(self.doc, c, "scale_factor", 1.0),
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
                    continue
                rot_el, tr_el = w.find("xyz_body_rotation"), w.find("translation")
                xyz = _floats(self.doc, rot_el, 3) if rot_el is not None else np.zeros(3)
                tr = _floats(self.doc, tr_el, 3) if tr_el is not None else np.zeros(3)
                quad = _text(w.find("quadrant"), "all") or "all"
                axis, sign = _quadrant(quad)
                if sign is None:
                    raise self.doc.error(w, f"unknown quadrant {quad!r}")
                dims_el = w.find("dimensions")
                if w.tag == "WrapSphere" and _child_float(self.doc, w, "radius") < 0.0:
                    raise self.doc.error(w, "radius must be zero or positive")
                out.append(
                    WrapObject(
                        name=w.get("name", ""),
                        type=w.tag,
                        body=bi,
                        xyz_body_rotation=frozen_array(xyz),
                        translation=frozen_array(tr),
                        rotation=frozen_array(rotation_body_xyz(xyz)),
                        quadrant=quad,
                        wrap_axis=axis,
                        wrap_sign=sign,
                        radius=_child_float(self.doc, w, "radius", 0.0) if w.tag != "WrapEllipsoid" else 0.0,
                        length=_child_float(self.doc, w, "length", 1.0) if w.tag == "WrapCylinder" else 0.0,
                        dimensions=frozen_array(_floats(self.doc, dims_el, 3) if dims_el is not None else np.zeros(3)),
                        active=_bool(w.find("active"), True),
                    )
                )
        names = [w.name for w in out]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise OsimError(f"{self.doc.path}: duplicate wrap object names {dup}")
        return out

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
            if f.tag not in SUPPORTED_MUSCLES:
                self.skip(f, f"unsupported path actuator type {f.tag} (supported: {', '.join(SUPPORTED_MUSCLES)})")
                continue
            m = self._muscle(f, gp, wrap_index)
            if m is not None:
                muscles.append(m)
                elements.append(f)
        return muscles, elements

    def _muscle(self, f: ET.Element, gp: ET.Element, wrap_index: dict[str, int]) -> Muscle | None:
        name = f.get("name", "")
        points: list[PathPoint] = []
        ctx = f"/forceset/{name}/{gp.get('name', 'path')}"
        for pt in _objects(gp.find("PathPointSet")):
            parent = _text(pt.find("socket_parent_frame")) or _text(pt.find("body"))
            if pt.tag not in ("PathPoint", "ConditionalPathPoint", "MovingPathPoint"):
                self.skip(pt, f"unsupported path point type {pt.tag} in muscle {name!r}")
                return None
            if not parent:
                raise self.doc.error(pt, "path point without <socket_parent_frame>")
            b, rbf, pbf = self.resolve_frame(parent, ctx, pt)
            loc_el = pt.find("location")
            loc = _floats(self.doc, loc_el, 3) if loc_el is not None else np.zeros(3)
            if pt.tag == "PathPoint":
                points.append(PathPoint(pt.get("name", ""), b, frozen_array(rbf @ loc + pbf)))
            elif pt.tag == "ConditionalPathPoint":
                cref = _text(pt.find("socket_coordinate")) or _text(pt.find("coordinate"))
                if _last(cref) not in self.coord_index:
                    raise self.doc.error(pt, f"refers to unknown coordinate {cref!r}")
                rng = _floats(self.doc, pt.find("range"), 2, what="range")
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
                fns: list[Function] = []
                for a in "xyz":
                    holder = pt.find(f"{a}_location")
                    fl = list(holder) if holder is not None else []
                    fns.append(self.function(fl[0]) if fl else Constant(0.0))
                points.append(
                    PathPoint(
                        pt.get("name", ""), b, frozen_array(np.zeros(3)), "moving",
                        self.coord_index[next(iter(refs))], (0.0, 0.0), tuple(fns),
                    )
                )
        if len(points) < 2:
            raise self.doc.error(f, f"muscle {name!r} has fewer than 2 path points")
        pws: list[PathWrap] = []
        for pw in _objects(gp.find("PathWrapSet")):
            wname = _text(pw.find("wrap_object"))
            if wname not in wrap_index:
                if self.strict:
                    raise self.doc.error(pw, f"refers to unknown wrap object {wname!r}")
                self.skipped.append(f"{self.doc.where(pw)}: unknown wrap object {wname!r} (ignored)")
                continue
            rng_el = pw.find("range")
            rng = _floats(self.doc, rng_el, 2) if rng_el is not None else np.array([-1.0, -1.0])
            pws.append(PathWrap(wrap_index[wname], int(rng[0]), int(rng[1]), _text(pw.find("method"), "hybrid")))
        return Muscle(name, f.tag, tuple(points), tuple(pws), ET.tostring(f, encoding="unicode"))


def _quadrant(q: str) -> tuple[int, int | None]:
    table = {
        "-x": (0, -1), "x": (0, 1), "+x": (0, 1),
        "-y": (1, -1), "y": (1, 1), "+y": (1, 1),
        "-z": (2, -1), "z": (2, 1), "+z": (2, 1),
        "all": (0, 0), "unassigned": (0, 0),
    }
    return table.get(q.strip().lower(), (0, None))


def load_osim(path: str | Path, *, strict: bool = True) -> Model:
    """Load an OpenSim 4.x ``.osim`` file into an immutable :class:`Model`.

    Parameters
    ----------
    path : the ``.osim`` file.
    strict : when True (default), any component that would change kinematics or muscle paths
        and is not supported raises :class:`OsimError` naming the element, its name and line.
        When False, such components are left out and listed in ``Model.skipped``.

    Raises
    ------
    OsimError : missing file, malformed or unsafe XML, unknown references, unsupported parts.
    """
    root, doc = parse_xml(path)
    ld = _Loader(root, doc, strict)
    ld.load_bodies()
    joints = ld.load_joints()
    couplers = ld.load_couplers()
    wraps = ld.load_wraps()
    muscles, elements = ld.load_muscles(wraps)
    placed = {0} | {j.child for j in joints}
    loose = [b.name for i, b in enumerate(ld.bodies) if i not in placed]
    if loose:
        if strict:
            raise OsimError(f"{doc.path}: bodies without a joint to ground: {', '.join(loose)}")
        keep = []
        for mu, el in zip(muscles, elements, strict=True):
            bad = {ld.bodies[pt.body].name for pt in mu.points if pt.body not in placed}
            bad |= {ld.bodies[wraps[w.wrap_object].body].name for w in mu.wraps if wraps[w.wrap_object].body not in placed}
            if bad:
                ld.skipped.append(f"{doc.where(el)}: muscle {mu.name!r} attaches to bodies without a joint: {sorted(bad)}")
            else:
                keep.append((mu, el))
        muscles = [k[0] for k in keep]
        elements = [k[1] for k in keep]
    gravity_el = ld.model_el.find("gravity")
    gravity = _floats(doc, gravity_el, 3) if gravity_el is not None else np.array([0.0, -9.80665, 0.0])
    defaults_el = ld.model_el.find("defaults")
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
    )


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


# ------------------------------------------------------------------------------------ writing
def _num(v: float) -> str:
    v = float(v)
    if math.isinf(v):
        v = math.copysign(1e6, v)  # OpenSim has no infinity literal; a huge range means "free"
    return repr(v)


def _vec(v: Any) -> str:
    return " ".join(_num(x) for x in np.ravel(v))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _function_xml(parent: ET.Element, fn: Function) -> None:
    if isinstance(fn, Constant):
        _sub(_sub(parent, "Constant", name="function"), "value", _num(fn.constant))
    elif isinstance(fn, LinearFunction):
        _sub(_sub(parent, "LinearFunction", name="function"), "coefficients", f"{_num(fn.slope)} {_num(fn.intercept)}")
    elif isinstance(fn, SimmSpline):
        el = _sub(parent, "SimmSpline", name="function")
        _sub(el, "x", _vec(fn.x))
        _sub(el, "y", _vec(fn.y))
    elif isinstance(fn, PolynomialFunction):
        _sub(_sub(parent, "PolynomialFunction", name="function"), "coefficients", _vec(fn.coefficients))
    elif isinstance(fn, MultiplierFunction):
        el = _sub(parent, "MultiplierFunction", name="function")
        _function_xml(_sub(el, "function"), fn.function)
        _sub(el, "scale", _num(fn.scale))
    else:  # pragma: no cover - every Function subclass is handled above
        raise TypeError(f"cannot write function {type(fn).__name__}")


def _frame_path(model: Model, body: int) -> str:
    return "/ground" if body == 0 else f"/bodyset/{model.bodies[body].name}"


def _wrap_xml(parent: ET.Element, w: WrapObject) -> None:
    el = _sub(parent, w.type, name=w.name)
    _sub(el, "active", "true" if w.active else "false")
    _sub(el, "xyz_body_rotation", _vec(w.xyz_body_rotation))
    _sub(el, "translation", _vec(w.translation))
    _sub(el, "quadrant", w.quadrant)
    if w.type == "WrapCylinder":
        _sub(el, "radius", _num(w.radius))
        _sub(el, "length", _num(w.length))
    elif w.type == "WrapSphere":
        _sub(el, "radius", _num(w.radius))
    else:
        _sub(el, "dimensions", _vec(w.dimensions))


def _path_xml(model: Model, mu: Muscle) -> ET.Element:
    gp = ET.Element("GeometryPath", {"name": "path"})
    pps = _sub(_sub(gp, "PathPointSet"), "objects")
    for pt in mu.points:
        if pt.kind == "fixed":
            el = _sub(pps, "PathPoint", name=pt.name)
            _sub(el, "socket_parent_frame", _frame_path(model, pt.body))
            _sub(el, "location", _vec(pt.location))
        elif pt.kind == "conditional":
            el = _sub(pps, "ConditionalPathPoint", name=pt.name)
            _sub(el, "socket_parent_frame", _frame_path(model, pt.body))
            _sub(el, "location", _vec(pt.location))
            c = model.coordinates[pt.coordinate]
            _sub(el, "socket_coordinate", f"/jointset/{c.joint}/{c.name}")
            _sub(el, "range", f"{_num(pt.range[0])} {_num(pt.range[1])}")
        else:
            el = _sub(pps, "MovingPathPoint", name=pt.name)
            _sub(el, "socket_parent_frame", _frame_path(model, pt.body))
            c = model.coordinates[pt.coordinate]
            for a in "xyz":
                _sub(el, f"socket_{a}_coordinate", f"/jointset/{c.joint}/{c.name}")
            for a, fn in zip("xyz", pt.functions, strict=True):
                _function_xml(_sub(el, f"{a}_location"), fn)
    pws = _sub(_sub(gp, "PathWrapSet"), "objects")
    for k, pw in enumerate(mu.wraps):
        el = _sub(pws, "PathWrap", name=f"pathwrap{k}")
        _sub(el, "wrap_object", model.wrap_objects[pw.wrap_object].name)
        _sub(el, "method", pw.method)
        _sub(el, "range", f"{pw.start} {pw.end}")
    return gp


def write_osim(model: Model, path: str | Path) -> None:
    """Write ``model`` as an OpenSim 4 ``.osim`` file that OpenSim 4.6 loads with the same numbers.

    Every joint except WeldJoint is written as a CustomJoint (the same transform as a function
    of its coordinates); offset frames are written per joint; path points are expressed in
    their body frames. Muscle properties other than the path are written back as read.
    """
    from defusedxml.ElementTree import fromstring

    doc = ET.Element("OpenSimDocument", {"Version": "40000"})
    m_el = _sub(doc, "Model", name=model.name)
    _sub(m_el, "gravity", _vec(model.gravity))
    ground = _sub(m_el, "Ground", name="ground")
    by_body: dict[int, list[WrapObject]] = {}
    for w in model.wrap_objects:
        by_body.setdefault(w.body, []).append(w)
    if by_body.get(0):
        objs = _sub(_sub(ground, "WrapObjectSet", name="wrapobjectset"), "objects")
        for w in by_body[0]:
            _wrap_xml(objs, w)
    bodies = _sub(_sub(m_el, "BodySet", name="bodyset"), "objects")
    for i, b in enumerate(model.bodies[1:], start=1):
        el = _sub(bodies, "Body", name=b.name)
        _sub(el, "mass", _num(b.mass))
        _sub(el, "mass_center", _vec(b.mass_center))
        _sub(el, "inertia", _vec(b.inertia))
        if by_body.get(i):
            objs = _sub(_sub(el, "WrapObjectSet", name="wrapobjectset"), "objects")
            for w in by_body[i]:
                _wrap_xml(objs, w)
    joints = _sub(_sub(m_el, "JointSet", name="jointset"), "objects")
    for jt in model.joints:
        kind = "WeldJoint" if not jt.coordinates else "CustomJoint"
        el = _sub(joints, kind, name=jt.name)
        _sub(el, "socket_parent_frame", f"{jt.name}_parent_offset")
        _sub(el, "socket_child_frame", f"{jt.name}_child_offset")
        if jt.coordinates:
            cs = _sub(el, "coordinates")
            for ci in jt.coordinates:
                c = model.coordinates[ci]
                c_el = _sub(cs, "Coordinate", name=c.name)
                _sub(c_el, "default_value", _num(c.default_value))
                _sub(c_el, "range", f"{_num(c.range[0])} {_num(c.range[1])}")
                _sub(c_el, "clamped", "true" if c.clamped else "false")
                _sub(c_el, "locked", "true" if c.locked else "false")
        frames = _sub(el, "frames")
        for suffix, body, rot, tr in (
            ("parent_offset", jt.parent, jt.parent_rotation, jt.parent_translation),
            ("child_offset", jt.child, jt.child_rotation, jt.child_translation),
        ):
            f_el = _sub(frames, "PhysicalOffsetFrame", name=f"{jt.name}_{suffix}")
            _sub(f_el, "socket_parent", _frame_path(model, body))
            _sub(f_el, "translation", _vec(tr))
            _sub(f_el, "orientation", _vec(body_xyz_from_rotation(np.asarray(rot))))
        if kind == "CustomJoint":
            st = _sub(el, "SpatialTransform")
            names = ["rotation1", "rotation2", "rotation3", "translation1", "translation2", "translation3"]
            for i, nm in enumerate(names):
                ta = _sub(st, "TransformAxis", name=nm)
                ci = jt.axis_coordinates[i]
                _sub(ta, "coordinates", model.coordinates[ci].name if ci >= 0 else "")
                _sub(ta, "axis", _vec(jt.axes[i]))
                _function_xml(ta, jt.functions[i])
    cons = _sub(_sub(m_el, "ConstraintSet", name="constraintset"), "objects")
    for cp in model.couplers:
        el = _sub(cons, "CoordinateCouplerConstraint", name=cp.name)
        _sub(el, "isEnforced", "true")
        _function_xml(_sub(el, "coupled_coordinates_function"), cp.function)
        _sub(el, "independent_coordinate_names", model.coordinates[cp.independent].name)
        _sub(el, "dependent_coordinate_name", model.coordinates[cp.dependent].name)
        _sub(el, "scale_factor", _num(cp.scale_factor))
    forces = _sub(_sub(m_el, "ForceSet", name="forceset"), "objects")
    for mu in model.muscles:
        el = fromstring(mu.xml) if mu.xml else ET.Element(mu.type, {"name": mu.name})
        old = el.find("GeometryPath")
        pos = list(el).index(old) if old is not None else 0
        if old is not None:
            el.remove(old)
        el.insert(pos, _path_xml(model, mu))
        forces.append(el)
    ET.indent(doc, space="\t")
    try:
        Path(path).write_text('<?xml version="1.0" encoding="UTF-8" ?>\n' + ET.tostring(doc, encoding="unicode") + "\n")
    except OSError as exc:
        raise OsimError(f"{path}: cannot write ({exc.strerror})") from None
