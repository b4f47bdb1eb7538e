#!/usr/bin/env python3
"""Build the bone meshes shipped in the package from the Pose2Sim Geometry folder.

    .venv/bin/python scripts/build_meshes.py [--source ../shared/models/pose2sim/Geometry]

Each ``.vtp`` is simplified by quadric edge collapse (``fast-simplification``) to about
``KEEP`` of its triangles (never below ``MIN_FACES``), written as ASCII ``.vtp`` with 0.01 mm
precision into ``src/iliopsoas/models/geometry/`` beside the BSD-3-Clause licence and a provenance
note (``PROVENANCE.md``, rewritten with the face counts and checksums). The meshes are BSD-3-Clause
(Copyright (c) 2022, perfanalytics); nothing else from that repository is copied.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from iliopsoas.models.meshes import SHIPPED_DIR, decimate, read_vtp, write_vtp  # noqa: E402

KEEP = 0.6
MIN_FACES = 160
BUDGET_BYTES = 2_000_000
FILES = ("femur_r", "femur_l", "r_pelvis", "l_pelvis", "sacrum", "lumbar1", "lumbar2", "lumbar3", "lumbar4", "lumbar5")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "models" / "pose2sim" / "Geometry")
    args = ap.parse_args()
    src = args.source
    if not src.is_dir():
        print(f"--source: {src} is not a folder (expected the Pose2Sim Geometry folder)", file=sys.stderr)
        return 1
    SHIPPED_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    for stem in FILES:
        path = src / f"{stem}.vtp"
        full = read_vtp(path, max_faces=10**9)
        target = max(MIN_FACES, int(round(KEEP * len(full.faces))))
        small = decimate(full, target)
        out = write_vtp(small, SHIPPED_DIR / f"{stem}.vtp")
        rows.append((stem, len(full.faces), len(small.faces), out.stat().st_size,
                     hashlib.sha256(path.read_bytes()).hexdigest()[:16]))
    licence = src.parent / "LICENSE.pose2sim.txt"
    shutil.copyfile(licence, SHIPPED_DIR / "LICENSE.pose2sim.txt")
    total = sum(r[3] for r in rows)
    if total > BUDGET_BYTES:
        print(f"the meshes take {total} bytes, over the {BUDGET_BYTES} byte budget", file=sys.stderr)
        return 1
    table = "\n".join(f"| {s}.vtp | {a} | {b} | {n:,} | `{h}` |" for s, a, b, n, h in rows)
    (SHIPPED_DIR / "PROVENANCE.md").write_text(f"""# Bone meshes shipped with iliopsoas

Simplified copies of the bone meshes of the Pose2Sim full-body model (repository perfanalytics/pose2sim,
folder `Pose2Sim/OpenSim_Setup/Geometry`, commit f7b39c747b361ce2cef2304bd7d42dddd15b3d36), BSD-3-Clause,
Copyright (c) 2022, perfanalytics: see `LICENSE.pose2sim.txt` beside this file. The Pose2Sim model adapts
the Lifting Full-Body model (Beaucage-Gauvreau et al. 2019) and the lumbar geometry of Christophy et al. 2012
(Biomech Model Mechanobiol 11:19-34).

Built by `scripts/build_meshes.py`: each mesh simplified by quadric edge collapse (the `fast-simplification`
package) to {KEEP:.0%} of its triangles (at least {MIN_FACES}), written as ASCII `.vtp` rounded to 0.01 mm.
Coordinates are unchanged otherwise (metres, in the frame of the body the Pose2Sim model attaches them to).
Total {total:,} bytes.

| file | triangles in the source | triangles here | bytes | sha256 of the source file (first 16) |
|---|---|---|---|---|
{table}
""", encoding="utf-8")
    print(f"wrote {len(rows)} meshes, {total:,} bytes, to {SHIPPED_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
