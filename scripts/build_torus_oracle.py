"""Write tests/data/osim/torus_oracle.json: OpenSim 4.6's lengths and moment arms of every muscle
that wraps over a WrapTorus in MoBL-ARMS 4.1 and the Dynamic Arm Simulator, at a few random poses.

Run once with the test extra installed (it needs ``opensim``):
    .venv/bin/python scripts/build_torus_oracle.py
The poses come from a fixed seed; only OpenSim computes the stored numbers.
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from iliopsoas.mechanics import complete_coordinates, load_osim

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "osim"
MODELS = {  # name: (file, coordinates for the moment arms)
    "MOBL_ARMS_41": ("upper-limb/MOBL_ARMS_41.osim.gz", ["shoulder_elv", "elbow_flexion", "pro_sup", "flexion"]),
    "das4_v4": ("arm-model/das4_v4.osim.gz", ["GH_z", "EL_x", "PS_y", "flexion"]),
}
POSES = 8
SEED = 20261207


def main() -> int:
    import opensim

    out: dict[str, object] = {"opensim": opensim.__version__, "seed": SEED, "models": {}}
    rng = np.random.default_rng(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (rel, coords) in MODELS.items():
            path = Path(tmp) / f"{name}.osim"
            path.write_bytes(gzip.decompress((DATA / rel).read_bytes()))
            model = load_osim(path, strict=False)  # only for coordinate ranges and the torus muscles' names
            torus = [mu.name for mu in model.muscles
                     if any(model.wrap_objects[w.wrap_object].type == "WrapTorus" for w in mu.wraps)]
            lo, hi = model.coordinate_ranges.T
            q = lo + (hi - lo) * rng.random((POSES, len(lo)))
            locked = np.array([c.locked for c in model.coordinates])
            q[:, locked] = model.coordinate_defaults[locked]
            q = complete_coordinates(model, q)
            om = opensim.Model(str(path))
            s = om.initSystem()
            cs = om.getCoordinateSet()
            handles = [cs.get(c) for c in model.coordinate_names]
            mus = [om.getMuscles().get(m) for m in torus]
            lengths, arms = [], []
            for i in range(POSES):
                for j, h in enumerate(handles):
                    h.setValue(s, float(q[i, j]), False)
                om.realizePosition(s)
                lengths.append([mu.getLength(s) for mu in mus])
                arms.append([[mu.computeMomentArm(s, cs.get(c)) for c in coords] for mu in mus])
            out["models"][name] = {  # type: ignore[index]
                "file": rel, "coordinate_names": list(model.coordinate_names), "q": q.tolist(),
                "muscles": torus, "moment_arm_coordinates": coords, "length": lengths, "moment_arm": arms,
            }
    (DATA / "torus_oracle.json").write_text(json.dumps(out, allow_nan=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
