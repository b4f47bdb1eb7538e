"""OpenSim .mot/.sto reading and writing, and mapping motions onto model coordinates."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from iliopsoas.mechanics.storage import (
    Storage,
    StorageError,
    coordinate_of_label,
    motion_to_q,
    parse_storage,
    read_storage,
    write_storage,
)

MOT = """Coordinates
version=1
nRows=3
nColumns=4
inDegrees=yes

Units are S.I. units (second, meters, Newtons, ...)
If the header above contains a line with 'inDegrees', this indicates whether rotational values are in degrees (yes) or radians (no).

endheader
time\thip_flexion_r\t/jointset/hip_r/hip_adduction_r/value\tpelvis_ty
0\t10\t-5\t0.9
0.01\t20\t-4\t0.91
0.02\t30\t-3\t0.92
"""


def test_reads_header_labels_and_rows() -> None:
    s = parse_storage(MOT)
    assert s.name == "Coordinates"
    assert s.in_degrees
    assert s.labels == ("time", "hip_flexion_r", "/jointset/hip_r/hip_adduction_r/value", "pelvis_ty")
    assert s.data.shape == (3, 4)
    np.testing.assert_array_equal(s.time, [0, 0.01, 0.02])
    np.testing.assert_array_equal(s.column("hip_flexion_r"), [10, 20, 30])


def test_degrees_become_radians_for_rotational_coordinates_only() -> None:
    s = parse_storage(MOT)
    names = ["pelvis_ty", "hip_flexion_r", "hip_adduction_r", "knee_angle_r"]
    q, ignored = motion_to_q(s, names, [0.94, 0.0, 0.0, 0.1], [False, True, True, True])
    np.testing.assert_allclose(q[:, 1], np.deg2rad([10, 20, 30]))
    np.testing.assert_allclose(q[:, 2], np.deg2rad([-5, -4, -3]))
    np.testing.assert_allclose(q[:, 0], [0.9, 0.91, 0.92])  # translational: unchanged
    np.testing.assert_allclose(q[:, 3], 0.1)  # absent: default
    assert ignored == []


def test_radians_file_is_not_converted() -> None:
    s = parse_storage(MOT.replace("inDegrees=yes", "inDegrees=no"))
    q, _ = motion_to_q(s, ["hip_flexion_r"], [0.0], [True])
    np.testing.assert_allclose(q[:, 0], [10, 20, 30])


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("hip_flexion_r", ("hip_flexion_r", "value")),
        ("/jointset/hip_r/hip_flexion_r/value", ("hip_flexion_r", "value")),
        ("/jointset/hip_r/hip_flexion_r/speed", ("hip_flexion_r", "speed")),
    ],
)
def test_column_labels_bare_or_full_path(label: str, expected: tuple[str, str]) -> None:
    assert coordinate_of_label(label) == expected


def test_speed_and_unknown_columns_are_reported_not_used() -> None:
    text = MOT.replace("pelvis_ty", "/jointset/hip_r/hip_flexion_r/speed").replace("nColumns=4", "nColumns=4")
    s = parse_storage(text)
    q, ignored = motion_to_q(s, ["hip_flexion_r"], [0.0], [True])
    assert ignored == ["/jointset/hip_r/hip_adduction_r/value", "/jointset/hip_r/hip_flexion_r/speed"]
    with pytest.raises(StorageError, match="names no coordinate"):
        motion_to_q(s, ["hip_flexion_r"], [0.0], [True], strict=True)


def test_two_columns_for_one_coordinate_is_an_error() -> None:
    s = Storage("x", ("time", "hip_flexion_r", "/jointset/hip_r/hip_flexion_r/value"), np.zeros((2, 3)))
    with pytest.raises(StorageError, match="both give coordinate"):
        motion_to_q(s, ["hip_flexion_r"], [0.0], [True])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MOT.replace("endheader\n", ""), "no 'endheader'"),
        (MOT.replace("0.01\t20\t-4\t0.91", "0.01\t20\t-4"), r":\d+: row has 3 values, expected 4"),
        (MOT.replace("0.01\t20", "0.01\tabc"), r":\d+: 'abc' is not a number"),
        (MOT.replace("nRows=3", "nRows=5"), "header says 5 rows but the file has 3"),
        (MOT.replace("nColumns=4", "nColumns=2"), "header says 2 columns"),
        (MOT.replace("nRows=3", "nRows=three"), r":3: nRows must be an integer"),
        (MOT.replace("inDegrees=yes", "inDegrees=maybe"), "inDegrees must be yes or no"),
        (MOT.split("endheader")[0] + "endheader\n", "missing the column-label line"),
        (MOT.replace("pelvis_ty", "hip_flexion_r"), "duplicate column label"),
    ],
)
def test_malformed_files_name_the_line_and_problem(text: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        parse_storage(text, source="bad.mot")


def test_error_names_the_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "walk.mot"
    p.write_text(MOT.replace("0.02\t30", "0.02\tx30"))
    with pytest.raises(StorageError) as e:
        read_storage(p)
    assert f"{p}:14:" in str(e.value)  # the third data row


def test_round_trip_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(size=(7, 4)) * 10.0 ** rng.integers(-8, 8, size=(7, 4))
    data[2, 3] = math.nan
    s = Storage("result", ("time", "a|length", "/forceset/b|tendon_force", "c"), data, in_degrees=True,
                header={"note": "x"})
    write_storage(tmp_path / "r.sto", s)
    back = read_storage(tmp_path / "r.sto")
    assert back.labels == s.labels and back.in_degrees and back.name == "result"
    np.testing.assert_array_equal(back.data, data)
    assert back.header["note"] == "x"


@pytest.mark.opensim
def test_opensim_reads_what_we_write_and_we_read_what_it_writes(tmp_path: Path) -> None:
    osim = pytest.importorskip("opensim")
    t = np.linspace(0, 1, 5)
    ours = Storage("motion", ("time", "hip_flexion_r", "knee_angle_r"), np.column_stack([t, 30 * t, -10 * t]),
                   in_degrees=True)
    write_storage(tmp_path / "ours.mot", ours)
    st = osim.Storage(str(tmp_path / "ours.mot"))
    assert st.getSize() == 5 and st.isInDegrees()
    labels = st.getColumnLabels()
    assert [labels.get(i) for i in range(labels.getSize())] == list(ours.labels)
    col = osim.ArrayDouble()
    st.getDataColumn("hip_flexion_r", col)
    np.testing.assert_allclose([col.get(i) for i in range(col.getSize())], 30 * t)

    table = osim.TimeSeriesTable()
    table.setColumnLabels(["/jointset/hip_r/hip_flexion_r/value", "/jointset/hip_r/hip_flexion_r/speed"])
    for k, tk in enumerate(t):
        table.appendRow(float(tk), osim.RowVector([0.1 * k, 0.5]))
    table.addTableMetaDataString("inDegrees", "no")
    osim.STOFileAdapter.write(table, str(tmp_path / "theirs.sto"))
    back = read_storage(tmp_path / "theirs.sto")
    assert not back.in_degrees
    q, ignored = motion_to_q(back, ["hip_flexion_r"], [0.0], [True])
    np.testing.assert_allclose(q[:, 0], 0.1 * np.arange(5))
    assert ignored == ["/jointset/hip_r/hip_flexion_r/speed"]
