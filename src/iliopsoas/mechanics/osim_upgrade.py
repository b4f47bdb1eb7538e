"""OpenSim 2.x and 3.x model documents (``Version`` 20000-39999) rewritten into the 4.x layout on load,
the way OpenSim 4's ``updateFromXMLNode`` does, so that the loader reads one layout only:

* the ``Body`` named ``ground`` in the ``BodySet`` becomes the model's ``Ground`` (with its wrap
  objects and any other children);
* each body's ``<Joint><XJoint>`` moves to the model's ``JointSet``: ``parent_body`` and
  ``location_in_parent``/``orientation_in_parent`` become a parent ``PhysicalOffsetFrame`` on the
  parent body, ``location``/``orientation`` a child offset frame on the body, the
  ``CoordinateSet`` becomes ``coordinates``;
* a ``TransformAxis``'s function loses its ``<function>`` wrapper;
* inertia given as six ``inertia_xx`` ... ``inertia_yz`` properties becomes one ``inertia``;
* a constraint's ``isDisabled`` becomes ``isEnforced``; a ``MovingPathPoint``'s
  ``x_coordinate`` ... become its sockets.

Only the structure changes; numbers are carried over as written. :func:`upgrade_3x` edits the
parsed tree in place; the line numbers of the original elements stay available for errors.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

_INERTIA = ("inertia_xx", "inertia_yy", "inertia_zz", "inertia_xy", "inertia_xz", "inertia_yz")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _objects(parent: ET.Element, set_tag: str) -> ET.Element:
    """The ``<objects>`` of ``parent``'s ``<set_tag>``, created when absent."""
    holder = parent.find(set_tag)
    if holder is None:
        holder = _sub(parent, set_tag)
    objs = holder.find("objects")
    if objs is None:
        objs = _sub(holder, "objects")
    return objs


def _is_zero(text: str | None) -> bool:
    try:
        return all(float(v) == 0.0 for v in (text or "").split())
    except ValueError:
        return False


def _frame_path(body: str) -> str:
    return "/ground" if body == "ground" else f"/bodyset/{body}"


def upgrade_3x(model_el: ET.Element) -> None:
    """Rewrite a 3.x ``<Model>`` element into the 4.x layout (in place)."""
    bodyset = model_el.find("BodySet")
    bodies = list(bodyset.find("objects") or []) if bodyset is not None else []
    joints_out = _objects(model_el, "JointSet")
    for body in bodies:
        name = body.get("name", "")
        if all(body.find(t) is not None for t in _INERTIA) and body.find("inertia") is None:
            vals = [(body.find(t).text or "0").strip() for t in _INERTIA]  # type: ignore[union-attr]
            _sub(body, "inertia", " ".join(vals))
        holder = body.find("Joint")
        if holder is not None:
            body.remove(holder)
            for joint in list(holder):
                joints_out.append(_upgrade_joint(joint, name))
        if name == "ground" and model_el.find("Ground") is None:
            assert bodyset is not None
            bodyset.find("objects").remove(body)  # type: ignore[union-attr]
            body.tag = "Ground"
            model_el.insert(0, body)
    for con in model_el.iter("CoordinateCouplerConstraint"):
        disabled = con.find("isDisabled")
        if disabled is not None and con.find("isEnforced") is None:
            flag = (disabled.text or "").strip().lower() in ("true", "1")
            _sub(con, "isEnforced", "false" if flag else "true")
    for mpp in model_el.iter("MovingPathPoint"):
        for a in "xyz":
            old = mpp.find(f"{a}_coordinate")
            if old is not None and mpp.find(f"socket_{a}_coordinate") is None:
                _sub(mpp, f"socket_{a}_coordinate", (old.text or "").strip())


def _upgrade_joint(joint: ET.Element, child_body: str) -> ET.Element:
    parent = (joint.findtext("parent_body") or "").strip()
    frames = joint.find("frames")
    if frames is None:
        frames = _sub(joint, "frames")
    sockets = []
    for body, loc_tag, ori_tag in ((parent, "location_in_parent", "orientation_in_parent"),
                                   (child_body, "location", "orientation")):
        loc, ori = joint.findtext(loc_tag), joint.findtext(ori_tag)
        if _is_zero(loc) and _is_zero(ori):
            sockets.append(_frame_path(body))
            continue
        frame_name = f"{body}_offset"
        f = _sub(frames, "PhysicalOffsetFrame", name=frame_name)
        _sub(f, "socket_parent", _frame_path(body))
        _sub(f, "translation", (loc or "0 0 0").strip())
        _sub(f, "orientation", (ori or "0 0 0").strip())
        sockets.append(frame_name)
    _sub(joint, "socket_parent_frame", sockets[0])
    _sub(joint, "socket_child_frame", sockets[1])
    cset = joint.find("CoordinateSet")
    if cset is not None and joint.find("coordinates") is None:
        coords = _sub(joint, "coordinates")
        for c in list(cset.find("objects") or []):
            coords.append(c)
    for ta in joint.iter("TransformAxis"):
        wrapper = ta.find("function")
        if wrapper is not None:
            ta.remove(wrapper)
            for fn in list(wrapper):
                ta.append(fn)
    if (joint.findtext("reverse") or "").strip().lower() in ("true", "1"):
        joint.set("reversed_3x", "true")
    return joint
