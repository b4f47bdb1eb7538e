"""Write a :class:`~iliopsoas.mechanics.model.Model` as an OpenSim 4 ``.osim`` file."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
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
from iliopsoas.mechanics.model import Model, Muscle, WrapObject, body_xyz_from_rotation
from iliopsoas.mechanics.osim_xml import OsimError


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
    elif isinstance(fn, PiecewiseLinearFunction):
        el = _sub(parent, "PiecewiseLinearFunction", name="function")
        _sub(el, "x", _vec(fn.x))
        _sub(el, "y", _vec(fn.y))
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
    for tag, value in w.size_properties().items():
        _sub(el, tag, value)


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
        # Free and Ball joints keep their class: their generalized speeds are angular velocities
        kind = jt.type if jt.type in ("FreeJoint", "BallJoint") else "WeldJoint" if not jt.coordinates else "CustomJoint"
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
