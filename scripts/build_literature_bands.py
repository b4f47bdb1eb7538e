#!/usr/bin/env python3
"""Build the literature moment-arm CSV the Model page overlays, from the digitised data of
Modenese & Kohout 2020 (repository modenaxe/3d-muscles, folder ``_literature_data``, Apache-2.0).

    .venv/bin/python scripts/build_literature_bands.py FOLDER

FOLDER holds ``Arnold2000.mat``, ``Dostal1986.mat``, ``Nemeth1985.mat``, ``load_Blemker2005_data.m``
and ``LICENSE.txt`` from that repository. Output: ``src/iliopsoas/web/data/literature_moment_arms.csv``
(long form, moment arms in cm in OpenSim's sign convention: + = flexion, adduction, internal rotation)
and the licence beside it. Only numbers are taken; the conversions below are ours.
"""

from __future__ import annotations

import csv
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "iliopsoas" / "web" / "data"

SOURCES = {
    "BLEMKER2005": "Blemker SS, Delp SL. Three-dimensional representation of complex muscle architectures and "
                   "geometries. Ann Biomed Eng 2005;33(5):661-673. doi:10.1007/s10439-005-1433-7",
    "ARNOLD2000": "Arnold AS, Salinas S, Asakawa DJ, Delp SL. Accuracy of muscle moment arms estimated from "
                  "MRI-based musculoskeletal models of the lower extremity. Comput Aided Surg 2000;5(2):108-119. "
                  "doi:10.3109/10929080009148877",
    "DOSTAL1986": "Dostal WF, Soderberg GL, Andrews JG. Actions of hip muscles. Phys Ther 1986;66(3):351-361. "
                  "doi:10.1093/ptj/66.3.351",
    "NEMETH1985": "Nemeth G, Ohlsen H. In vivo moment arm lengths for hip extensor muscles at different angles "
                  "of hip flexion. J Biomech 1985;18(2):129-140. doi:10.1016/0021-9290(85)90005-3",
}
DIGITISED = ("digitised by Modenese L, Kohout J 2020 (Ann Biomed Eng, doi:10.1007/s10439-020-02490-4), "
             "github modenaxe/3d-muscles _literature_data, Apache-2.0")
BLEMKER_MUSCLES = {"r_psoas": "psoas_major", "r_iliacus": "iliacus"}  # glutes left out: their sign is not stated


def main() -> int:
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    src = Path(sys.argv[1])
    from scipy.io import loadmat

    rows: list[tuple[str, str, str, str, float, float]] = []

    def mat(name: str) -> tuple[list[str], list[list[float]]]:
        d = loadmat(src / f"{name}.mat", squeeze_me=True, struct_as_record=False)[name]
        return [str(h) for h in d.colheaders], d.data.tolist()

    heads, data = mat("Arnold2000")  # psoas flexion moment arm (cm) of three subjects' MRI models
    for k in (1, 2, 3):
        rows += [("ARNOLD2000", "psoas_major", "hip_flexion", f"subject {k}", r[0], r[k]) for r in data]
    heads, data = mat("Dostal1986")  # gluteus medius; adduction (+) / abduction (-) as OpenSim
    rows += [("DOSTAL1986", "gluteus_medius", "hip_adduction", "whole muscle", r[0], r[2]) for r in data]
    heads, data = mat("Nemeth1985")  # gluteus maximus extension moment arm (mm), women: OpenSim flexion = -extension
    rows += [("NEMETH1985", "gluteus_maximus", "hip_flexion", "women", r[0], -r[1] / 10.0) for r in data]
    text = (src / "load_Blemker2005_data.m").read_text()
    for m in re.finditer(r"blemker2005\.(\w+)\.(\w+)\.(ub|lb)\s*=\s*\[(.*?)\]", text, re.S):
        muscle, coord, bound, body = m.groups()
        if muscle not in BLEMKER_MUSCLES:
            continue
        nums = [float(x) for x in body.split()]
        series = "upper" if bound == "ub" else "lower"
        rows += [("BLEMKER2005", BLEMKER_MUSCLES[muscle], coord, series, nums[i], nums[i + 1])
                 for i in range(0, len(nums) - 1, 2)]
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "literature_moment_arms.csv", "w", newline="", encoding="utf-8") as f:
        f.write("# Published hip moment arms (cm) against the joint angle (deg), OpenSim sign convention\n")
        f.write("# (+ = flexion, adduction, internal rotation). Numbers " + DIGITISED + ".\n")
        for key, cite in SOURCES.items():
            f.write(f"# {key}: {cite}\n")
        f.write("# Built by scripts/build_literature_bands.py; BLEMKER2005 'upper'/'lower' bound the band of the\n"
                "# 3-D model's fibres; NEMETH1985 sign flipped (extension arm -> flexion arm), mm -> cm.\n")
        w = csv.writer(f)
        w.writerow(["source", "muscle", "coordinate", "series", "angle_deg", "moment_arm_cm"])
        for s, mu, co, se, a, v in rows:
            w.writerow([s, mu, co, se, f"{a:.3f}", f"{v:.4f}"])
    shutil.copyfile(src / "LICENSE.txt", OUT / "LICENSE.3d-muscles.txt")
    print(f"wrote {len(rows)} rows to {OUT / 'literature_moment_arms.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
