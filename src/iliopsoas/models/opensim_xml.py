"""Turn an expanded model description (:func:`iliopsoas.models.description.expand`) into an
OpenSim 4 ``.osim`` document.

Only the components the description uses are written: ``Body`` with ``WrapCylinder`` objects,
``CustomJoint`` (linear, constant and ``SimmSpline`` transform functions),
``CoordinateCouplerConstraint``, ``Millard2012EquilibriumMuscle`` with rigid tendons (and, where the
description calibrates it, the ``FiberForceLengthCurve`` strains)
(``PathPoint``/``ConditionalPathPoint`` and ``PathWrap``), and one ``SpringGeneralizedForce`` per
sacroiliac joint for its passive stiffness. OpenSim 4.6 loads the result as is.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement, indent, tostring


def _num(v: float) -> str:
    return repr(float(v))


def _vec(v: Any) -> str:
    return " ".join(_num(x) for x in v)


def _text(parent: Element, tag: str, text: str, **attrib: str) -> Element:
    e = SubElement(parent, tag, attrib)
    e.text = text
    return e


def _function(parent: Element, axis: dict[str, Any]) -> None:
    if "constant" in axis:
        f = SubElement(parent, "Constant", name="function")
        _text(f, "value", _num(axis["constant"]))
    elif "spline" in axis:
        f = SubElement(parent, "SimmSpline", name="function")
        _text(f, "x", _vec(axis["spline"]["x"]))
        _text(f, "y", _vec(axis["spline"]["y"]))
    else:
        f = SubElement(parent, "LinearFunction", name="function")
        _text(f, "coefficients", _vec(axis.get("linear", [1.0, 0.0])))


def _body(parent: Element, b: dict[str, Any], wraps: list[dict[str, Any]]) -> None:
    e = SubElement(parent, "Body", name=b["name"])
    _text(e, "mass", _num(b["mass"]))
    _text(e, "mass_center", _vec(b["mass_center"]))
    _text(e, "inertia", _vec(b["inertia"]))
    ws = SubElement(SubElement(e, "WrapObjectSet", name="wrapobjectset"), "objects")
    for w in wraps:
        c = SubElement(ws, "WrapCylinder", name=w["name"])
        _text(c, "xyz_body_rotation", _vec(w["xyz_body_rotation"]))
        _text(c, "translation", _vec(w["translation"]))
        _text(c, "quadrant", str(w["quadrant"]))
        _text(c, "radius", _num(w["radius"]))
        _text(c, "length", _num(w["length"]))


def _offset(parent: Element, name: str, body: str, o: dict[str, Any]) -> None:
    f = SubElement(parent, "PhysicalOffsetFrame", name=name)
    _text(f, "socket_parent", "/ground" if body == "ground" else f"/bodyset/{body}")
    _text(f, "translation", _vec(o["translation"]))
    _text(f, "orientation", _vec(o["orientation"]))


def _joint(parent: Element, j: dict[str, Any]) -> None:
    e = SubElement(parent, "CustomJoint", name=j["name"])
    _text(e, "socket_parent_frame", f"{j['parent']}_offset")
    _text(e, "socket_child_frame", f"{j['child']}_offset")
    coords = SubElement(e, "coordinates")
    for c in j["coordinates"]:
        ce = SubElement(coords, "Coordinate", name=c["name"])
        _text(ce, "default_value", _num(c.get("default", 0.0)))
        _text(ce, "range", _vec(c["range"]))
        _text(ce, "clamped", "true" if c.get("clamped", False) else "false")
        _text(ce, "locked", "false")
    frames = SubElement(e, "frames")
    _offset(frames, f"{j['parent']}_offset", j["parent"], j["parent_offset"])
    _offset(frames, f"{j['child']}_offset", j["child"], j["child_offset"])
    st = SubElement(e, "SpatialTransform")
    for key in ("rotation1", "rotation2", "rotation3", "translation1", "translation2", "translation3"):
        axis = j["axes"][key]
        ta = SubElement(st, "TransformAxis", name=key)
        _text(ta, "coordinates", axis.get("coordinate", ""))
        _text(ta, "axis", _vec(axis["axis"]))
        _function(ta, axis)


def _coordinate_path(joints: list[dict[str, Any]], coordinate: str) -> str:
    for j in joints:
        if any(c["name"] == coordinate for c in j["coordinates"]):
            return f"/jointset/{j['name']}/{coordinate}"
    raise ValueError(f"no joint owns coordinate {coordinate!r}")


def _muscle(parent: Element, m: dict[str, Any], joints: list[dict[str, Any]]) -> None:
    e = SubElement(parent, "Millard2012EquilibriumMuscle", name=m["name"])
    _text(e, "appliesForce", "true")
    gp = SubElement(e, "GeometryPath", name="geometrypath")
    objs = SubElement(SubElement(gp, "PathPointSet"), "objects")
    for i, p in enumerate(m["path"], start=1):
        kind = "ConditionalPathPoint" if "coordinate" in p else "PathPoint"
        pe = SubElement(objs, kind, name=f"{m['name']}-P{i}")
        _text(pe, "socket_parent_frame", f"/bodyset/{p['body']}")
        _text(pe, "location", _vec(p["location"]))
        if kind == "ConditionalPathPoint":
            _text(pe, "socket_coordinate", _coordinate_path(joints, p["coordinate"]))
            _text(pe, "range", _vec(p["range"]))
    if m.get("wraps"):
        ws = SubElement(SubElement(gp, "PathWrapSet"), "objects")
        for k, w in enumerate(m["wraps"], start=1):
            we = SubElement(ws, "PathWrap", name=f"{m['name']}-wrap{k}")
            _text(we, "wrap_object", w["object"])
            _text(we, "method", "hybrid")
            _text(we, "range", " ".join(str(int(x)) for x in w.get("range", [-1, -1])))
    _text(e, "max_isometric_force", _num(m["max_isometric_force"]))
    _text(e, "optimal_fiber_length", _num(m["optimal_fiber_length"]))
    _text(e, "tendon_slack_length", _num(m["tendon_slack_length"]))
    _text(e, "pennation_angle_at_optimal", _num(m["pennation_angle_at_optimal"]))
    if "passive_strain_at_zero_force" in m:
        fl = SubElement(e, "FiberForceLengthCurve", name=f"{m['name']}_FiberForceLengthCurve")
        _text(fl, "strain_at_zero_force", _num(m["passive_strain_at_zero_force"]))
        _text(fl, "strain_at_one_norm_force", _num(m["passive_strain_at_one_norm_force"]))
    _text(e, "ignore_tendon_compliance", "true")
    _text(e, "ignore_activation_dynamics", "true")


def to_osim(d: dict[str, Any], *, stiffness_forces: bool = True) -> str:
    """The OpenSim 4 XML text of an expanded description.

    ``stiffness_forces`` adds a ``SpringGeneralizedForce`` for every coordinate that declares a
    ``passive_stiffness`` (N·m/rad), e.g. the sacroiliac joints.
    """
    doc = Element("OpenSimDocument", Version="40000")
    model = SubElement(doc, "Model", name=d.get("name", "model"))
    _text(model, "credits", str(d.get("credits", "")).strip())
    _text(model, "ground_acceleration_of_gravity", "0 -9.80665 0")
    _text(model, "length_units", "meters")
    _text(model, "force_units", "N")
    SubElement(model, "Ground", name="ground")
    bodies = SubElement(SubElement(model, "BodySet", name="bodyset"), "objects")
    for b in d["bodies"]:
        _body(bodies, b, [w for w in d["wrap_objects"] if w["body"] == b["name"]])
    joints = SubElement(SubElement(model, "JointSet", name="jointset"), "objects")
    for j in d["joints"]:
        _joint(joints, j)
    cons = SubElement(SubElement(model, "ConstraintSet", name="constraintset"), "objects")
    for c in d["constraints"]:
        ce = SubElement(cons, "CoordinateCouplerConstraint", name=c["name"])
        _text(ce, "isEnforced", "true")
        fn = SubElement(ce, "coupled_coordinates_function")
        lf = SubElement(fn, "LinearFunction", name="function")
        _text(lf, "coefficients", _vec(c["linear"]))
        _text(ce, "independent_coordinate_names", c["independent"])
        _text(ce, "dependent_coordinate_name", c["dependent"])
        _text(ce, "scale_factor", "1")
    forces = SubElement(SubElement(model, "ForceSet", name="forceset"), "objects")
    for m in d["muscles"]:
        _muscle(forces, m, d["joints"])
    if stiffness_forces:
        for j in d["joints"]:
            for c in j["coordinates"]:
                if "passive_stiffness" in c:
                    s = SubElement(forces, "SpringGeneralizedForce", name=f"{c['name']}_stiffness")
                    _text(s, "coordinate", c["name"])
                    _text(s, "stiffness", _num(c["passive_stiffness"]))
                    _text(s, "rest_length", "0")
                    _text(s, "viscosity", "0")
    indent(doc, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(doc, encoding="unicode") + "\n"
