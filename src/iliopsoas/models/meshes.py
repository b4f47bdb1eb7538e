"""Bone meshes: VTK XML PolyData (``.vtp``) files read with defusedxml, and the meshes we ship.

Only what OpenSim's Geometry folders use is supported: ASCII ``DataArray`` points and polygons
(triangulated as fans). Large meshes are simplified to at most ``max_faces`` triangles with
quadric edge collapse (``fast-simplification``), which keeps the shape closed.

The package ships simplified copies of the Pose2Sim bone meshes (BSD-3-Clause, see
``geometry/LICENSE.pose2sim.txt`` and ``geometry/PROVENANCE.md``; built by
``scripts/build_meshes.py``): :func:`shipped_meshes` attaches them to a model's bodies, so the
bundled model has bones without any ``--geometry`` folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

MAX_FACES = 5000
MAX_FILE_BYTES = 20_000_000
#: the folder of simplified Pose2Sim meshes inside the package
SHIPPED_DIR = Path(__file__).resolve().parent / "geometry"


class VtpError(ValueError):
    """A ``.vtp`` file that cannot be read (the message names the file and the problem)."""


@dataclass(frozen=True)
class Mesh:
    """A triangle mesh: ``vertices`` ``(n_vertices, 3)`` m, ``faces`` ``(n_faces, 3)`` vertex indices."""

    vertices: NDArray[np.float64]
    faces: NDArray[np.int64]


def _array(parent: object, path: str, where: str, name: str | None = None) -> NDArray[np.float64]:
    for da in parent.iter("DataArray"):  # type: ignore[attr-defined]
        if name is not None and da.get("Name") != name:
            continue
        fmt = da.get("format", "ascii")
        if fmt != "ascii":
            raise VtpError(f"{where}: {path} DataArray uses format={fmt!r}; only ASCII .vtp files are supported")
        try:
            return np.array((da.text or "").split(), dtype=float)
        except ValueError:
            raise VtpError(f"{where}: {path} holds a value that is not a number") from None
    raise VtpError(f"{where}: no {path} DataArray{f' named {name!r}' if name else ''}")


def read_vtp(path: str | Path, *, max_faces: int = MAX_FACES) -> Mesh:
    """Read the polygons of a ``.vtp`` file as triangles (decimated to ``max_faces``).

    Raises :class:`VtpError` naming the file when it is missing, not PolyData XML, or not ASCII.
    """
    from defusedxml import ElementTree

    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise VtpError(f"{p}: larger than {MAX_FILE_BYTES // 1_000_000} MB")
        root = ElementTree.parse(str(p)).getroot()
    except OSError as exc:
        raise VtpError(f"cannot read {p}: {exc.strerror or exc}") from None
    except Exception as exc:  # defusedxml raises several unrelated types for bad or unsafe XML
        raise VtpError(f"{p}: not valid XML ({exc})") from None
    if root.tag != "VTKFile" or root.get("type") != "PolyData":
        raise VtpError(f"{p}: expected a VTKFile of type PolyData")
    piece = root.find("PolyData/Piece")
    points_el = piece.find("Points") if piece is not None else None
    polys_el = piece.find("Polys") if piece is not None else None
    if points_el is None or polys_el is None:
        raise VtpError(f"{p}: expected PolyData/Piece with Points and Polys")
    pts = _array(points_el, "Points", str(p))
    if pts.size % 3:
        raise VtpError(f"{p}: Points holds {pts.size} numbers, not a multiple of 3")
    vertices = pts.reshape(-1, 3)
    conn = _array(polys_el, "Polys", str(p), "connectivity").astype(np.int64)
    offsets = _array(polys_el, "Polys", str(p), "offsets").astype(np.int64)
    tris: list[tuple[int, int, int]] = []
    start = 0
    for end in offsets:
        poly = conn[start:end]
        start = int(end)
        for k in range(1, len(poly) - 1):
            tris.append((int(poly[0]), int(poly[k]), int(poly[k + 1])))
    faces = np.array(tris, dtype=np.int64).reshape(-1, 3)
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise VtpError(f"{p}: a polygon refers to a point that does not exist")
    return decimate(Mesh(vertices, faces), max_faces)


def decimate(mesh: Mesh, max_faces: int) -> Mesh:
    """The mesh simplified by quadric edge collapse to ``max_faces`` triangles (unchanged if smaller)."""
    if len(mesh.faces) <= max_faces:
        return mesh
    import fast_simplification

    v, f = fast_simplification.simplify(mesh.vertices.astype(np.float64), mesh.faces.astype(np.int64),
                                        target_count=int(max_faces))
    used, inverse = np.unique(np.asarray(f, dtype=np.int64), return_inverse=True)  # drop vertices left unused
    return Mesh(np.asarray(v, dtype=float)[used], inverse.reshape(-1, 3).astype(np.int64))


def write_vtp(mesh: Mesh, path: str | Path, *, decimals: int = 5) -> Path:
    """Write ``mesh`` as an ASCII ``.vtp`` file (what :func:`read_vtp` and OpenSim read); return the path."""
    pts = "\n".join(" ".join(f"{x:.{decimals}f}" for x in row) for row in mesh.vertices)
    conn = "\n".join(" ".join(str(int(i)) for i in row) for row in mesh.faces)
    offsets = " ".join(str(3 * (k + 1)) for k in range(len(mesh.faces)))
    text = (
        '<?xml version="1.0"?>\n<VTKFile type="PolyData" version="0.1" byte_order="LittleEndian">\n<PolyData>\n'
        f'<Piece NumberOfPoints="{len(mesh.vertices)}" NumberOfVerts="0" NumberOfLines="0" NumberOfStrips="0" '
        f'NumberOfPolys="{len(mesh.faces)}">\n'
        f'<Points>\n<DataArray type="Float32" NumberOfComponents="3" format="ascii">\n{pts}\n</DataArray>\n</Points>\n'
        f'<Polys>\n<DataArray type="Int32" Name="connectivity" format="ascii">\n{conn}\n</DataArray>\n'
        f'<DataArray type="Int32" Name="offsets" format="ascii">\n{offsets}\n</DataArray>\n</Polys>\n'
        '</Piece>\n</PolyData>\n</VTKFile>\n'
    )
    out = Path(path)
    out.write_text(text, encoding="utf-8")
    return out


_SIDE = re.compile(r"^(?P<stem>.+?)_(?P<side>[rl])$")
_ALIASES = {"innominate": "pelvis"}


def candidate_files(body: str) -> list[str]:
    """File stems that may hold ``body``'s mesh: ``femur_r`` -> ``femur_r``, ``r_femur``; ``innominate_r`` -> ``r_pelvis``."""
    out = [body]
    m = _SIDE.match(body)
    if m:
        stems = [m["stem"], _ALIASES.get(m["stem"], m["stem"])]
        for s in dict.fromkeys(stems):
            out += [f"{s}_{m['side']}", f"{m['side']}_{s}"]
    return list(dict.fromkeys(out))


def osim_meshes(osim_path: str | Path) -> dict[str, list[tuple[str, NDArray[np.float64]]]]:
    """Mesh files attached directly to each body of an ``.osim`` file: ``{body: [(file, scale (3,))]}``."""
    from defusedxml import ElementTree

    try:
        root = ElementTree.parse(str(osim_path)).getroot()
    except Exception as exc:
        raise VtpError(f"{osim_path}: cannot read its geometry ({exc})") from None
    out: dict[str, list[tuple[str, NDArray[np.float64]]]] = {}
    for body in root.iter("Body"):
        name = body.get("name")
        geo = body.find("attached_geometry")
        if not name or geo is None:
            continue
        for mesh in geo.iter("Mesh"):
            file_el, scale_el = mesh.find("mesh_file"), mesh.find("scale_factors")
            if file_el is None or not (file_el.text or "").strip():
                continue
            try:
                scale = np.array((scale_el.text or "1 1 1").split(), dtype=float) if scale_el is not None else np.ones(3)
            except ValueError:
                scale = np.ones(3)
            out.setdefault(name, []).append((file_el.text.strip(), scale if scale.shape == (3,) else np.ones(3)))
    return out


def body_meshes(
    body_names: tuple[str, ...], geometry_dir: str | Path, *, osim_path: str | Path | None = None,
    max_faces: int = MAX_FACES,
) -> dict[str, list[Mesh]]:
    """Meshes found in ``geometry_dir`` for each body, in body coordinates (m).

    With ``osim_path`` the file's own ``<Mesh>`` attachments are used; otherwise a file is matched
    to a body by name (see :func:`candidate_files`). Bodies without a mesh are left out; an
    unreadable file is skipped so that one bad mesh never hides the others.
    """
    folder = Path(geometry_dir)
    attached = osim_meshes(osim_path) if osim_path is not None else {}
    out: dict[str, list[Mesh]] = {}
    for body in body_names:
        if attached:
            files = [(folder / f, s) for f, s in attached.get(body, [])]
        else:
            files = [f for f in ((folder / f"{c}.vtp", np.ones(3)) for c in candidate_files(body)) if f[0].is_file()][:1]
        for path, scale in files:
            if not path.is_file():
                continue
            try:
                mesh = read_vtp(path, max_faces=max_faces)
            except VtpError:
                continue
            out.setdefault(body, []).append(Mesh(mesh.vertices * scale, mesh.faces))
    return out


def shipped_meshes(body_names: tuple[str, ...]) -> dict[str, list[Mesh]]:
    """The simplified Pose2Sim meshes shipped in the package, matched to ``body_names`` by file name
    (``femur_r``, ``innominate_r`` -> ``r_pelvis``, ``sacrum``, ``lumbar1``…). Bodies without one are left out."""
    return body_meshes(body_names, SHIPPED_DIR)
