"""Black-box robustness probes (issue 14): the measurement behind the before/after table, and the
engine of the regression tests ``tests/test_robustness_*.py``.

Every probe drives the program only from outside (the command line in-process through Click's
runner or as a subprocess, HTTP against a real uvicorn server, files on disk), so the same probes
run against any checkout::

    PYTHONPATH=<checkout>/src python tests/robustness_probes.py            # every category
    PYTHONPATH=<checkout>/src python tests/robustness_probes.py cli import # some of them

Each category returns a :class:`Tally`: how many tries, how many failed and the first examples.
A failure is what the issue calls one: a traceback, a 500, a false success (exit 0 or 2xx on input
that must be refused, "wrote /dev/full"), a side effect (a folder created, a damaged file written
to), a set acknowledged and then lost or stored twice, or a safety-gate bypass.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


# ----------------------------------------------------------------------------------- bookkeeping
@dataclass
class Tally:
    category: str
    tries: int = 0
    failures: int = 0
    examples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> bool:
        self.tries += 1
        if not ok:
            self.failures += 1
            if len(self.examples) < 500:
                self.examples.append(what[:300])
        return ok

    def row(self) -> str:
        return f"| {self.category} | {self.tries} | {self.failures} |"


def env_for_subprocess() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    env.pop("ILIOPSOAS_DB", None)
    return env


def free_port(preferred: range = range(8121, 8130)) -> int:
    for port in preferred:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {preferred.start}-{preferred.stop - 1}")


def screen_ids(scope: str = "full") -> list[str]:
    from iliopsoas.care.screening import item_ids

    return list(item_ids(scope))


# ----------------------------------------------------------------------------------- the command line
@dataclass
class CliCase:
    args: list[str]
    expect: str = "error"  # error: must be refused cleanly; any: success or a clean error
    check: Callable[[], str | None] | None = None  # extra side-effect check: a problem or None
    timeout_s: int = 120
    heavy: bool = False  # solves a posture or compiles the engine: left out of the quick run


def run_cli(args: list[str], timeout_s: int = 120, stdin: str | None = None) -> tuple[int, str, str, str | None]:
    """(exit code, stdout, stderr, exception text or None) of one command, run in a forked child
    with at most :data:`CHILD_MEMORY` of address space and ``timeout_s`` seconds (TimeoutError), so a
    command that reads /dev/zero or loops cannot take the machine down."""
    import resource

    from typer.testing import CliRunner

    from iliopsoas.cli import app

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report as JSON, leave without cleanup handlers
        try:
            os.close(read_fd)
            resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
            signal.alarm(timeout_s)
            res = CliRunner().invoke(app, args, input=stdin)
            exc = None
            if res.exception is not None and not isinstance(res.exception, SystemExit):
                exc = f"{type(res.exception).__name__}: {str(res.exception)[:300]}"
            doc = json.dumps([res.exit_code, res.stdout[-20000:], res.stderr[-20000:], exc]).encode()
        except BaseException as e:  # noqa: BLE001 - report anything, never return into the parent's code
            doc = json.dumps([99, "", "", f"probe child: {type(e).__name__}: {e}"]).encode()
        with os.fdopen(write_fd, "wb") as fh:
            fh.write(doc)
        os._exit(0)
    os.close(write_fd)
    chunks: list[bytes] = []
    with os.fdopen(read_fd, "rb") as fh:
        reader = threading.Thread(target=lambda: chunks.append(fh.read()), daemon=True)
        reader.start()
        reader.join(timeout_s + 10)
    if reader.is_alive():
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if not chunks or not chunks[0]:
        why = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {status}"
        raise TimeoutError(f"no answer within {timeout_s} s or out of memory ({why})")
    code, out, err, exc = json.loads(chunks[0])
    return code, out, err, exc


CHILD_MEMORY = 4 * 2**30


def judge_cli(t: Tally, case: CliCase) -> None:
    label = " ".join(a if len(a) < 60 else a[:40] + "…" for a in case.args)
    try:
        code, out, err, exc = run_cli(case.args, case.timeout_s)
    except TimeoutError as e:
        t.check(False, f"{label}: hang ({e})")
        return
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if exc is not None or "Traceback" in out + err:
        t.check(False, f"{label}: traceback {exc or lines[-1:]}")
        return
    if any("internal error" in ln for ln in lines):
        t.check(False, f"{label}: internal error {lines[-1]}")
        return
    if case.expect == "error" and code == 0:
        t.check(False, f"{label}: exit 0 on bad input (stdout {out.strip()[:80]!r})")
        return
    if code != 0:
        usage = code == 2 and any("Usage:" in ln for ln in lines)
        one_line = len(lines) == 1 and lines[0].startswith("error: ")
        if not (usage or one_line):
            t.check(False, f"{label}: exit {code} without a one-line error: {lines[:3]}")
            return
    problem = case.check() if case.check else None
    t.check(problem is None, f"{label}: {problem}")


def cli_cases(tmp: Path) -> list[CliCase]:
    """Hostile values for every command: NaN, inf, huge, negative, unwritable paths, /dev/full,
    folders, missing files, garbage files, deep nesting."""
    all_no = {i: False for i in screen_ids()}
    w = tmp / "w"
    w.mkdir()

    def put(name: str, doc: Any) -> str:
        p = w / name
        p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        return str(p)

    db = str(tmp / "care.db")
    garbage = w / "garbage.bin"
    garbage.write_bytes(bytes(random.Random(1).randrange(256) for _ in range(5000)))
    empty = put("empty.json", "")
    deep = put("deep.json", "[" * 100_000 + "]" * 100_000)
    deep_yaml = put("deep.yaml", "a: " + "[" * 20_000 + "]" * 20_000)
    screen = put("screen.json", all_no)
    plan = put("plan.json", {"screen": all_no})
    session = put("session.json", {"screen": all_no, "nprs_before": 2, "nprs_after": 2})
    nested_db = str(w / "afile" / "care.db")
    (w / "afile").write_text("x")
    missing = str(w / "missing" / "x.json")
    big = 10**400
    pngdir = w / "dir.png"
    pngdir.mkdir()

    def not_created(path: Path) -> Callable[[], str | None]:
        return lambda: f"created {path}" if path.exists() else None

    n_missing = iter(range(10**6))

    def nodir(name: str) -> tuple[str, Callable[[], str | None]]:
        """A path in a folder that does not exist, and the check that the command did not create it."""
        folder = w / f"nodir{next(n_missing)}"
        return str(folder / name), not_created(folder)

    c: list[CliCase] = []
    # screen / assess / plan: answers files
    for bad in (missing, str(w), str(garbage), deep, deep_yaml,
                put("list.json", [1, 2]), put("nan.yaml", "fever-with-pain: .nan"),
                put("maybe.json", {"fever-with-pain": "maybe"}), put("bigkey.json", {"x" * 100_000: True})):
        c.append(CliCase(["screen", "--answers", bad, "--db", db]))
        c.append(CliCase(["plan", "--answers", bad, "--db", db]))
    for nothing in (empty, "/dev/null"):  # no answers at all: reported as not screened, program locked
        c.append(CliCase(["screen", "--answers", nothing, "--db", db], expect="any"))
        c.append(CliCase(["plan", "--answers", nothing, "--db", db], expect="any"))
    for name, value in (("thomas_hip_deg", big), ("thomas_hip_deg", "nan"), ("thomas_hip_deg", 1e308),
                        ("thomas_hip_deg", {"left": big}), ("psfs", [big]), ("psfs", [1] * 1000),
                        ("thomas_knee_deg", "abc"), ("standing_tilt_deg", -big)):
        f = put(f"assess-{name}-{len(c)}.json", json.loads(json.dumps({name: value}).replace('"nan"', "NaN")))
        c.append(CliCase(["assess", "--answers", f, "--db", db]))
        c.append(CliCase(["plan", "--answers", put(f"plan-{len(c)}.json", {"screen": all_no,
                                                                        "assessment": json.load(open(f))}),
                          "--db", db]))
    for opt, value in (("strengthen_reps", 1e300), ("strengthen_reps", -1), ("strengthen_reps", big),
                       ("release_hold_s", "NaN"), ("stretch_hold_s", 1e300), ("max_strengthen", big),
                       ("strengthen_sets", "x")):
        text = json.dumps({"screen": all_no, "options": {opt: value}}).replace('"NaN"', "NaN")
        c.append(CliCase(["plan", "--answers", put(f"opt-{len(c)}.json", text), "--db", db]))
    # unusable care databases, for every command that opens one
    for bad_db in (str(w), "/dev/full", "/dev/null", str(garbage), nested_db, "/proc/iliopsoas.db"):
        c.append(CliCase(["session", "list", "--db", bad_db]))
        c.append(CliCase(["screen", "--answers", screen, "--db", bad_db]))
        c.append(CliCase(["progress", "--db", bad_db]))
    # output paths
    out, made = nodir("x.pdf")
    c.append(CliCase(["plan", "--answers", plan, "--db", db, "--pdf", out], check=made))
    for out in ("/dev/full", str(w), "/proc/x.pdf", str(w / "afile" / "x.pdf")):
        c.append(CliCase(["plan", "--answers", plan, "--db", db, "--pdf", out]))
    out, made = nodir("p.png")
    c.append(CliCase(["progress", "--db", db, "--plot", out], check=made))
    for out in ("/dev/full", str(pngdir), "/proc/p.png", str(w / "afile" / "p.png")):
        c.append(CliCase(["progress", "--db", db, "--plot", out]))
    for as_of in ("yesterday", "2026-02-30", "1"):
        c.append(CliCase(["progress", "--db", db, "--as-of", as_of]))
    for as_of in ("0001-01-01", "9999-12-31"):
        c.append(CliCase(["progress", "--db", db, "--as-of", as_of], expect="any"))
    for days in ("0", "8", "-1", str(big)):
        c.append(CliCase(["progress", "--db", db, "--days-per-week", days]))
    # sessions
    for scale in ("1e300", "nan", "inf", "-1", "1e-320x"):
        c.append(CliCase(["session", "start", "--answers", session, "--db", db, "--time-scale", scale]))
    for key, value in (("time_scale", 1e300), ("time_scale", "NaN"), ("time_scale", -1), ("time_scale", "fast"),
                       ("quit_after_sets", 1e300), ("quit_after_sets", -1), ("quit_after_sets", "x"),
                       ("quit_after_sets", big), ("nprs_before", big), ("nprs_before", 1e300),
                       ("skip", "psoas-release"), ("restart", {"psoas-release": "x"}), ("restart", [1]),
                       ("pause", {"a": 1})):
        doc = {"screen": all_no, key: value}
        text = json.dumps(doc).replace('"NaN"', "NaN")
        c.append(CliCase(["session", "start", "--answers", put(f"s-{len(c)}.json", text), "--db", db]))
    out, made = nodir("x.json")
    c.append(CliCase(["session", "export", out, "--db", db], check=made))
    for out in ("/dev/full", str(w), "/proc/x.json", str(w / "x.txt")):
        c.append(CliCase(["session", "export", out, "--db", db]))
    c.append(CliCase(["session", "export", str(w / "x.json"), "--db", db, "--format", "xml"]))
    for bad in (missing, str(w), str(garbage), empty, deep, "/dev/null", put("nan.json", '{"format": NaN}'),
                put("big.json", '{"format": "iliopsoas-care-log", "sessions": [{"started_at": "2026-01-01T00:00:00",'
                                ' "nprs_before": ' + "9" * 400 + "}]}"),
                put("bad.csv", "record,x\n1,2\n"), put("nan.csv", "garbage\x00\xff"), "/dev/zero"):
        c.append(CliCase(["session", "import", bad, "--db", db], timeout_s=60))
    # atlas, ask
    for q in ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SELECT", "",
              "@" + missing, "@" + str(w), "@/dev/zero", "@" + str(garbage)):
        c.append(CliCase(["atlas", "sparql", q], timeout_s=60))
    for args in (["atlas", "show", ""], ["atlas", "show", "x" * 10_000],
                 ["atlas", "search", "psoas", "--limit", "0"],
                 ["atlas", "search", "psoas", "--limit", str(big)], ["atlas", "list", "--kind", "bogus"],
                 ["atlas", "claims", "--verdict", "bogus"], ["atlas", "claims", "--article", "999"],
                 ["atlas", "export", "-f", "xml"], ["ask", ""], ["ask", "x" * 100_000]):
        c.append(CliCase(args))
    for args in (["atlas", "show", "[/]"], ["atlas", "search", "[/] [bold]"], ["ask", "[/]psoas?"],
                 ["atlas", "search", ""], ["atlas", "search", "x" * 100_000]):
        c.append(CliCase(args, expect="any"))
    out, made = nodir("a.ttl")
    c.append(CliCase(["atlas", "export", "-f", "turtle", "-o", out], check=made))
    for out in ("/dev/full", str(w), "/proc/a.ttl"):
        c.append(CliCase(["atlas", "export", "-f", "turtle", "-o", out]))
    # model commands on our own model (files of other models: the mechanics issue)
    for args in (["model", "crossings", "--threshold-mm", "nan"], ["model", "crossings", "--threshold-mm", "-1"],
                 ["model", "crossings", "--threshold-mm", "1e300"], ["model", "hip-moment-arms", "--step", "0"],
                 ["model", "hip-moment-arms", "--step", "-5"], ["model", "hip-moment-arms", "--from", "1e300"],
                 ["model", "hip-moment-arms", "--side", "x"], ["model", "lumbar", "--side", "x"],
                 ["model", "lumbar", "--posture", "x"], ["model", "info", missing], ["model", "info", str(w)],
                 ["model", "info", str(garbage)], ["model", "info", "/dev/null"]):
        c.append(CliCase(args, heavy=args[1] != "info"))
    for cmd in ("hip-moment-arms", "lumbar", "crossings"):
        out, made = nodir("m.png")
        c.append(CliCase(["model", cmd, "--plot", out], check=made, heavy=True))
        for out in ("/dev/full", str(pngdir)):
            c.append(CliCase(["model", cmd, "--plot", out], heavy=True))
    # posture
    for args in (["--muscle-size", "nan"], ["--muscle-size", "inf"], ["--muscle-size", "1e300"],
                 ["--muscle-size", "0"], ["--pelvic-incidence-offset", "nan"], ["--pelvic-incidence-offset", "1e300"],
                 ["--tight", "psoas=nan"], ["--tight", "psoas=inf%"], ["--tight", "psoas=1e400"],
                 ["--tight", "psoas=20%:stiffness=nan"], ["--tight", "psoas=-5%"], ["--side", "x"]):
        c.append(CliCase(["simulate", "standing", *args], heavy=True))
    for args in (["--steps", "1000000000"], ["--steps", "-1"], ["--from", "nan"], ["--to", "inf"],
                 ["--from", "1e300"], ["--muscle", "[/]"]):
        c.append(CliCase(["simulate", "sweep", "standing", *args], heavy=True))
    out, made = nodir("pose.png")
    c.append(CliCase(["simulate", "supine", "--plot", out], check=made, heavy=True))
    c.append(CliCase(["simulate", "supine", "--plot", "/dev/full"], heavy=True))
    # serve: refused before it starts
    for args in (["--port", "0"], ["--port", "70000"], ["--port", "-1"], ["--host", "evil.example"],
                 ["--db", str(w)], ["--db", str(garbage)], ["--osim", missing], ["--geometry", screen]):
        c.append(CliCase(["serve", "--no-browser", *args]))
    return c


def preload() -> None:
    """Import (and load the data of) what most commands use, once, so each forked child starts warm."""
    import importlib

    for name in ("iliopsoas.cli", "iliopsoas.care.screening", "iliopsoas.care.planner", "iliopsoas.care.assessment",
                 "iliopsoas.care.log", "iliopsoas.care.player", "iliopsoas.care.progress", "iliopsoas.care.pdf",
                 "iliopsoas.knowledge", "matplotlib.pyplot", "rich.table", "rapidfuzz.process"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    with contextlib.suppress(Exception):
        from iliopsoas.care.assessment import load_rules
        from iliopsoas.care.screening import load_items
        from iliopsoas.knowledge import load_atlas

        load_items()
        load_rules()
        load_atlas()


def probe_cli(quick: bool = False) -> Tally:
    t = Tally("CLI: hostile values on every command")
    preload()
    with tempfile.TemporaryDirectory(prefix="iliopsoas-probe-cli-") as tmp:
        cases = cli_cases(Path(tmp))
        if quick:
            cases = [c for c in cases if not c.heavy]
        for case in cases:
            judge_cli(t, case)
    return t
