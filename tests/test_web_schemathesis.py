"""Schemathesis against the app's own OpenAPI schema, in-process (ASGI): no request may end in a 5xx.

Bounded (a few examples per operation) so it stays well under a minute; the per-operation status
counts are printed at the end and written to artifacts/schemathesis-summary.txt.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from iliopsoas.web import create_app  # noqa: E402

_TMP = Path(tempfile.mkdtemp(prefix="iliopsoas-st-"))
APP = create_app(db=_TMP / "care.sqlite3")
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
RESULTS: dict[str, Counter[int]] = defaultdict(Counter)


@pytest.fixture(scope="module", autouse=True)
def _summary(request: pytest.FixtureRequest):
    APP.state.settings.view()  # build the model once, before any request is timed
    yield
    unsupported = sum(c[405] for c in RESULTS.values())
    ops = {op: c for op, c in RESULTS.items() if set(c) != {405}}
    total = sum(sum(c.values()) for c in RESULTS.values())
    lines = [f"schemathesis: {total} requests; {len(ops)} operations of the schema, plus {unsupported} requests "
             "with methods the API does not offer (405)"]
    for op in sorted(ops):
        codes = ", ".join(f"{code}x{n}" for code, n in sorted(ops[op].items()) if code != 405)
        lines.append(f"  {op}: {codes}")
    server_errors = sum(n for c in RESULTS.values() for code, n in c.items() if code >= 500)
    lines.append(f"  server errors (5xx): {server_errors}")
    out = Path(__file__).resolve().parent.parent / "artifacts"
    out.mkdir(exist_ok=True)
    (out / "schemathesis-summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print("\n" + "\n".join(lines))
    shutil.rmtree(_TMP, ignore_errors=True)
    assert server_errors == 0


def _check(case) -> None:
    response = case.call(timeout=60)
    RESULTS[f"{case.method} {case.path}"][response.status_code] += 1
    case.validate_response(response, checks=[not_a_server_error])


# Building a plan touches every layer of care, so those operations get random cases only; the others
# also get schemathesis's coverage cases (boundaries, missing and wrong-typed fields).
HEAVY = r"^/api/care/(plan|plan\.pdf|sessions)$"
POSTURE = r"^/api/posture/simulate$"


@schema.exclude(path_regex=HEAVY).exclude(path_regex=POSTURE).parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case):
    _check(case)


@schema.include(path_regex=HEAVY).parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate])
def test_no_server_error_building_plans(case):
    _check(case)


# Each new scenario and side costs a full equilibrium solve (seconds): a handful of cases is enough.
@schema.include(path_regex=POSTURE).parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate])
def test_no_server_error_solving_postures(case):
    _check(case)
