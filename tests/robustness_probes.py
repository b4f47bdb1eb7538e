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
import http.client
import json
import os
import random
import re
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
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
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
    pin: bool = False  # failed on the code before the fixes (6129864): always re-run by the tests


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
    deep_yaml = put("deep.yaml", "a: " + "[" * 3_000 + "]" * 3_000)
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
    for bad in (deep, deep_yaml, put("bigkey.json", {"x" * 100_000: True})):
        c.append(CliCase(["screen", "--answers", bad, "--db", db], pin=True))
    # screen / assess / plan: answers files
    for bad in (missing, str(w), str(garbage),
                put("list.json", [1, 2]), put("nan.yaml", "fever-with-pain: .nan"),
                put("maybe.json", {"fever-with-pain": "maybe"})):
        c.append(CliCase(["screen", "--answers", bad, "--db", db]))
        c.append(CliCase(["plan", "--answers", bad, "--db", db]))
    for nothing in (empty, "/dev/null"):  # no answers at all: reported as not screened, program locked
        c.append(CliCase(["screen", "--answers", nothing, "--db", db], expect="any"))
        c.append(CliCase(["plan", "--answers", nothing, "--db", db], expect="any"))
    for name, value in (("thomas_hip_deg", big), ("thomas_hip_deg", "nan"), ("thomas_hip_deg", 1e308),
                        ("thomas_hip_deg", {"left": big}), ("psfs", [big]), ("psfs", [1] * 1000),
                        ("thomas_knee_deg", "abc"), ("standing_tilt_deg", -big)):
        f = put(f"assess-{name}-{len(c)}.json", json.loads(json.dumps({name: value}).replace('"nan"', "NaN")))
        c.append(CliCase(["assess", "--answers", f, "--db", db], pin=value == big or value == [big]))
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
    c.append(CliCase(["plan", "--answers", plan, "--db", db, "--pdf", out], check=made, pin=True))
    for out in ("/dev/full", str(w), "/proc/x.pdf", str(w / "afile" / "x.pdf")):
        c.append(CliCase(["plan", "--answers", plan, "--db", db, "--pdf", out]))
    out, made = nodir("p.png")
    c.append(CliCase(["progress", "--db", db, "--plot", out], check=made, pin=True))
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
        c.append(CliCase(["session", "start", "--answers", session, "--db", db, "--time-scale", scale],
                         pin=scale in ("1e300", "inf")))
    for key, value in (("time_scale", 1e300), ("time_scale", "NaN"), ("time_scale", -1), ("time_scale", "fast"),
                       ("quit_after_sets", 1e300), ("quit_after_sets", -1), ("quit_after_sets", "x"),
                       ("quit_after_sets", big), ("nprs_before", big), ("nprs_before", 1e300),
                       ("skip", "psoas-release"), ("restart", {"psoas-release": "x"}), ("restart", [1]),
                       ("pause", {"a": 1})):
        doc = {"screen": all_no, key: value}
        text = json.dumps(doc).replace('"NaN"', "NaN")
        c.append(CliCase(["session", "start", "--answers", put(f"s-{len(c)}.json", text), "--db", db],
                         pin=key in ("time_scale", "quit_after_sets") or key == "restart" and value == {"psoas-release": "x"}))
    out, made = nodir("x.json")
    c.append(CliCase(["session", "export", out, "--db", db], check=made))
    for out in ("/dev/full", str(w), "/proc/x.json", str(w / "x.txt")):
        c.append(CliCase(["session", "export", out, "--db", db]))
    c.append(CliCase(["session", "export", str(w / "x.json"), "--db", db, "--format", "xml"]))
    big_json = put("big.json", '{"format": "iliopsoas-care-log", "sessions": [{"started_at": "2026-01-01T00:00:00",'
                               ' "nprs_before": ' + "9" * 400 + "}]}")
    for bad in (missing, str(w), str(garbage), empty, deep, "/dev/null", put("nan.json", '{"format": NaN}'),
                big_json, put("bad.csv", "record,x\n1,2\n"), put("nan.csv", "garbage\x00\xff"), "/dev/zero"):
        c.append(CliCase(["session", "import", bad, "--db", db], timeout_s=60, pin=bad in (deep, big_json, "/dev/zero")))
    # atlas, ask
    for q in ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SELECT", "",
              "@" + missing, "@" + str(w), "@/dev/zero", "@" + str(garbage)):
        c.append(CliCase(["atlas", "sparql", q], timeout_s=60, pin="SERVICE" in q or q == "@/dev/zero"))
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
    c.append(CliCase(["model", "crossings", "--threshold-mm", "1e300"], pin=True))
    for args in (["model", "crossings", "--threshold-mm", "nan"], ["model", "crossings", "--threshold-mm", "-1"],
                 ["model", "hip-moment-arms", "--step", "0"],
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
    c.append(CliCase(["simulate", "sweep", "standing", "--muscle", "[/]"], pin=True))
    c.append(CliCase(["simulate", "thomas", "--tight", "psoas=40%:stiffness=3"], expect="any", heavy=True))
    for args in (["--steps", "1000000000"], ["--steps", "-1"], ["--from", "nan"], ["--to", "inf"],
                 ["--from", "1e300"]):
        c.append(CliCase(["simulate", "sweep", "standing", *args], heavy=True))
    out, made = nodir("pose.png")
    c.append(CliCase(["simulate", "supine", "--plot", out], check=made, heavy=True))
    c.append(CliCase(["simulate", "supine", "--plot", "/dev/full"], pin=True))
    # serve: refused before it starts
    for args in (["--port", "0"], ["--port", "70000"], ["--port", "-1"], ["--host", "evil.example"],
                 ["--db", str(w)], ["--db", str(garbage)], ["--osim", missing], ["--geometry", screen]):
        c.append(CliCase(["serve", "--no-browser", *args], pin=args[0] == "--host"))
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


# ----------------------------------------------------------------------------------- disks
@contextlib.contextmanager
def small_disk(size_kb: int) -> Iterator[Path | None]:
    """A real, tiny file system (tmpfs) of ``size_kb`` KiB, or None where mounting is not allowed."""
    where = Path(tempfile.mkdtemp(prefix="iliopsoas-disk-"))
    mounted = False
    try:
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(where)],
                             capture_output=True, timeout=30)
        mounted = res.returncode == 0
        yield where if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)
        shutil.rmtree(where, ignore_errors=True)


def fill_disk(folder: Path, leave_bytes: int) -> Path:
    """Write a filler file in ``folder`` so that about ``leave_bytes`` stay free; return the filler."""
    filler = folder / "filler.bin"
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    size = max(0, free - leave_bytes)
    with open(filler, "wb") as fh:
        fh.write(b"\0" * size)
    return filler


def make_read_only(folder: Path) -> bool:
    """Remount the tmpfs at ``folder`` read-only (True if that worked)."""
    res = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True, timeout=30)
    return res.returncode == 0


# ----------------------------------------------------------------------------------- the terminal player
ACK = re.compile(r"✓ (?P<step>[a-z0-9-]+) set (?P<set>\d+)(?: (?P<side>left|right))?:")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CLI = [sys.executable, "-m", "iliopsoas.cli"]


def session_answers(path: Path, **extra: Any) -> Path:
    path.write_text(json.dumps({"screen": {i: False for i in screen_ids()}, "nprs_before": 3, "nprs_after": 2,
                                **extra}))
    return path


def steps_in(db: Path) -> list[tuple[str, int | None, str | None, str]]:
    """(step_id, set_index, side, status) of every logged set, in order (empty if unreadable)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            return [tuple(r) for r in con.execute(  # type: ignore[misc]
                "SELECT step_id, set_index, side, status FROM steps ORDER BY id")]
        finally:
            con.close()
    except sqlite3.Error:
        return []


def acknowledged(text: str) -> list[tuple[str, int, str | None]]:
    return [(m["step"], int(m["set"]), m["side"]) for m in ACK.finditer(ANSI.sub("", text))]


@dataclass
class PlayerRun:
    acked: list[tuple[str, int, str | None]]
    stdout: str
    stderr: str
    returncode: int | None


def play(db: Path, answers: Path, *, scale: float, kill_after: float | None, use_pty: bool,
         kill_on_ack: int | None = None, timeout_s: float = 120, file_limit: int | None = None) -> PlayerRun:
    """Run ``session start`` as a subprocess; with ``kill_after``, SIGKILL it that many seconds after
    its first screen appeared (the session panel); with ``kill_on_ack``, the moment its k-th ✓ line
    arrives (the adversarial moment: right after the acknowledgement); else let it finish.
    ``file_limit`` caps the size of any file the child writes (RLIMIT_FSIZE): a full disk where
    no small file system can be mounted."""
    import resource

    def limit() -> None:
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    import pty

    cmd = [*CLI, "session", "start", "--answers", str(answers), "--db", str(db), "--time-scale", str(scale)]
    out: list[bytes] = []
    if use_pty:
        master, slave = pty.openpty()
        proc = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.PIPE, env=env_for_subprocess(),
                                stdin=subprocess.DEVNULL, preexec_fn=limit)
        os.close(slave)
        source = os.fdopen(master, "rb", buffering=0)
    else:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for_subprocess(),
                                stdin=subprocess.DEVNULL, preexec_fn=limit)
        assert proc.stdout is not None
        source = proc.stdout
    started = threading.Event()

    def pump() -> None:
        while True:
            try:
                chunk = source.read1(4096) if hasattr(source, "read1") else source.read(4096)
            except OSError:  # the pty closes with EIO when the child is gone
                break
            if not chunk:
                break
            out.append(chunk)
            if kill_on_ack is not None and b"".join(out).count(b"\xe2\x9c\x93") >= kill_on_ack:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
            if b"Guided session" in chunk or b"\xe2\x9c\x93" in chunk:
                started.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    err_box: list[bytes] = []
    err_reader = threading.Thread(target=lambda: err_box.append(proc.stderr.read() if proc.stderr else b""),
                                  daemon=True)
    err_reader.start()
    try:
        if kill_after is not None:
            if started.wait(timeout_s):
                time.sleep(kill_after)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout_s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(10)
        err_reader.join(10)
        source.close()
    text = b"".join(out).decode("utf-8", "replace")
    return PlayerRun(acknowledged(text), text, b"".join(err_box).decode("utf-8", "replace"), proc.returncode)


def acked_problems(acked: list[tuple[str, int, str | None]], rows: list[tuple]) -> list[str]:
    """What breaks "every acknowledged set is in the log exactly once" (empty: nothing)."""
    done = [(r[0], r[1], r[2]) for r in rows if r[3] == "done"]
    lost = [a for a in acked if done.count(a) == 0]
    twice = sorted({d for d in done if done.count(d) > 1})
    return [f"{len(acked)} acknowledged; lost {lost[:3]}; stored twice {twice[:3]}"] if lost or twice else []


def check_acked(t: Tally, label: str, acked: list[tuple[str, int, str | None]], rows: list[tuple]) -> None:
    """Every acknowledged set is in the log exactly once (and no set is there twice)."""
    problems = acked_problems(acked, rows)
    t.check(not problems, f"{label}: {'; '.join(problems) or f'{len(acked)} acknowledged'}")


def probe_player_kill(trials: int = 25, seed: int | None = None, parallel: int = 2) -> Tally:
    """kill -9 of ``session start`` at random moments: every set shown as done (✓) is in the log once.

    Half the kills fall at a uniform random moment of the session, half the instant a random ✓
    arrives (where acknowledging before saving loses the set). ``parallel`` sessions run side by side."""
    from concurrent.futures import ThreadPoolExecutor

    t = Tally("kill -9 of the terminal player")
    rng = random.Random(seed)
    scale = 0.001  # ~1.3 s of real time for a ~20-minute session
    plans = [("moment", rng.uniform(0.0, 1.6)) if n % 4 < 2 else ("ack", rng.randint(1, 12)) for n in range(trials)]
    with tempfile.TemporaryDirectory(prefix="iliopsoas-probe-kill-") as tmp:
        answers = session_answers(Path(tmp) / "session.json")

        def trial(n: int) -> tuple[str, PlayerRun, list[tuple]]:
            db = Path(tmp) / f"care-{n}.db"
            how = "pty" if n % 2 else "pipe"
            kind, value = plans[n]
            if kind == "moment":
                run = play(db, answers, scale=scale, kill_after=float(value), use_pty=n % 2 == 1)
                return f"trial {n} (kill at +{value:.2f} s, {how})", run, steps_in(db)
            run = play(db, answers, scale=scale, kill_after=5.0, kill_on_ack=int(value), use_pty=n % 2 == 1)
            return f"trial {n} (kill on ✓ number {value}, {how})", run, steps_in(db)

        with ThreadPoolExecutor(parallel) as pool:
            outcomes = list(pool.map(trial, range(trials)))
    for label, run, rows in outcomes:
        if "Traceback" in run.stderr:
            t.check(False, f"{label}: traceback {run.stderr.strip().splitlines()[-1]}")
            continue
        check_acked(t, label, run.acked, rows)
    t.notes.append(f"{trials} kills: half at uniform random moments 0-1.6 s after the first screen, half the "
                   "moment a random ✓ (1-12) arrived")
    return t


def probe_player_full_disk(trials: int = 7, seed: int | None = None) -> Tally:
    """The disk fills during a session: no traceback, every ✓ set saved once, and every finished set
    either saved or handed back (printed as an importable export) so that nothing is lost."""
    t = Tally("full disk during a guided session")
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="iliopsoas-probe-full-") as tmp:
        answers = session_answers(Path(tmp) / "session.json")
        for n in range(trials):
            with small_disk(1024) as disk:
                leave = rng.choice([0, 16, 40, 56, 64, 72, 80, 88, 96, 104, 112, 128]) * 1024
                if disk is None:  # no tmpfs here: the same through a cap on file sizes
                    db = Path(tmp) / f"capped-{n}.db"
                    run_cli(["session", "list", "--db", str(db)], 60)
                    t.notes.append(f"trial {n}: tmpfs cannot be mounted here; file sizes capped instead")
                    run = play(db, answers, scale=0.0, kill_after=None, use_pty=False,
                               file_limit=db.stat().st_size + leave)
                else:
                    db = disk / "care.db"
                    run_cli(["session", "list", "--db", str(db)], 60)  # create the database and its journal
                    filler = fill_disk(disk, leave)
                    run = play(db, answers, scale=0.0, kill_after=None, use_pty=False)
                    filler.unlink()
                label = f"trial {n} ({leave // 1024} KiB left)"
                if "Traceback" in run.stderr + run.stdout:
                    t.check(False, f"{label}: traceback {run.stderr.strip().splitlines()[-1:]}")
                    continue
                errors = [ln for ln in run.stderr.splitlines() if ln.strip()]
                if run.returncode != 0 and not (errors and errors[-1].startswith("error: ")):
                    t.check(False, f"{label}: exit {run.returncode} without a one-line error {errors[-2:]}")
                    continue
                problems = acked_problems(run.acked, steps_in(db))  # one try per trial: all of it holds
                handed = [json.loads(ln) for ln in run.stdout.splitlines() if ln.startswith('{"format"')]
                if handed:  # the sets the log could not take: import them now that there is room
                    doc = Path(tmp) / f"unsaved-{n}.json"
                    doc.write_text(json.dumps(handed[-1]))
                    code, _, err, exc = run_cli(["session", "import", str(doc), "--db", str(db)], 60)
                    if code != 0 or exc is not None:
                        problems.append(f"the unsaved sets did not import: {err.strip()}")
                    finished = len(run.acked) + len(handed[-1]["sessions"][0]["steps"])
                    done = [r for r in steps_in(db) if r[3] == "done"]
                    if len(done) < finished:
                        problems.append(f"{finished} sets finished, {len(done)} in the log")
                t.check(not problems, f"{label}: {'; '.join(problems)}")
                last = errors[-1][:160] if errors else ""
                t.notes.append(f"{label}: exit {run.returncode}, {len(run.acked)} acknowledged, "
                               f"{len(handed[-1]['sessions'][0]['steps']) if handed else 0} handed back; {last}")
    return t


# ----------------------------------------------------------------------------------- the web server
SERVER = ("import sys, uvicorn\n"
          "from iliopsoas.web import create_app\n"
          "uvicorn.run(create_app(db=sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]), log_level='warning')\n")


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)


def start_server(db: Path, port: int, timeout_s: float = 120) -> Server:
    """A real uvicorn process serving the app on ``port`` (the same app ``iliopsoas serve`` builds)."""
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(db), str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env_for_subprocess())
    server = Server(proc, port)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {proc.returncode}")
        try:
            if call("GET", f"{server.url}/api/health", timeout=2)[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"the server on port {port} did not answer within {timeout_s} s")


def call(method: str, url: str, body: Any = None, *, headers: dict[str, str] | None = None,
         raw: bytes | None = None, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one request; HTTP errors are answers, not exceptions."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json",
                                                                         **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def _post_sets(url: str, step_id: str, counter: Iterator[int], acked: list[tuple[int, int]]) -> None:
    """Post sets until the server is gone; remember each one answered 201 (list.append is atomic)."""
    while True:
        k = next(counter)
        key = (1 + k // 1001, k % 1001)  # (set_index, reps): unique per request
        try:
            code, _, _ = call("POST", url, {"step_id": step_id, "set_index": key[0], "reps": key[1]}, timeout=10)
        except (OSError, http.client.HTTPException):  # the server is gone
            return
        if code == 201:
            acked.append(key)


def probe_server_kill(trials: int = 20, seed: int | None = None, ports: range = range(8121, 8125),
                      parallel: int = 2) -> Tally:
    """kill -9 of the web server while clients post sets: every set answered 201 is in the log once.

    ``parallel`` servers (each with its own database and port) are tried side by side; each is
    killed at a random moment, restarted on the same database for the next trial."""
    from concurrent.futures import ThreadPoolExecutor

    t = Tally("kill -9 of the web server")
    rng = random.Random(seed)
    moments = [rng.uniform(0.05, 1.0) for _ in range(trials)]
    lanes = [list(range(k, trials, parallel)) for k in range(parallel)]
    results: dict[int, tuple[bool, str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="iliopsoas-probe-srv-") as tmp:

        def lane(k: int) -> None:
            db = Path(tmp) / f"care-{k}.db"
            port_range = range(ports.start + k * 2, ports.start + k * 2 + 2)
            for n in lanes[k]:
                try:
                    results[n] = _server_trial(n, db, port_range, moments[n])
                except Exception as exc:  # noqa: BLE001 - one broken trial is a failure, not a crash
                    results[n] = (False, f"trial {n}: {type(exc).__name__}: {exc}", "")

        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lane, range(parallel)))
    for n in sorted(results):
        ok, message, note = results[n]
        t.check(ok, message)
        if note:
            t.notes.append(note)
    return t


def _server_trial(n: int, db: Path, ports: range, moment: float) -> tuple[bool, str, str]:
    full = {i: False for i in screen_ids()}
    server = start_server(db, free_port(ports))
    try:
        code, _, body = call("POST", f"{server.url}/api/care/sessions", {"screen": full, "nprs_before": 2})
        if code != 201:
            return False, f"trial {n}: session not started ({code} {body[:200]!r})", ""
        doc = json.loads(body)
        sid, step_id = doc["session_id"], doc["sets"][0]["step_id"]
        acked: list[tuple[int, int]] = []
        counter = iter(range(1, 10**6))
        url = f"{server.url}/api/care/sessions/{sid}/steps"
        clients = [threading.Thread(target=_post_sets, args=(url, step_id, counter, acked), daemon=True)
                   for _ in range(4)]
        for c in clients:
            c.start()
        time.sleep(moment)
        server.kill()
        for c in clients:
            c.join(30)
    finally:
        server.kill()
    con = sqlite3.connect(db, timeout=10)
    try:
        rows = con.execute("SELECT set_index, reps FROM steps WHERE session_id = ?", (sid,)).fetchall()
        ok = con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    stored = [tuple(r) for r in rows]
    lost = [a for a in acked if stored.count(a) != 1]
    twice = len(stored) - len(set(stored))
    message = (f"trial {n} (kill at +{moment:.2f} s): {len(acked)} acknowledged, {len(lost)} lost or doubled, "
               f"{twice} stored twice, integrity {'ok' if ok else 'FAILED'}")
    return ok and not lost and not twice, message, f"trial {n}: {len(acked)} acknowledged sets, {len(stored)} stored"


HUGE_INT = "9" * 400


def probe_web(quick: bool = False, port_range: range = range(8125, 8129)) -> dict[str, Tally]:
    """Host header, body limit, framing headers, the six 500s and 100 concurrent posture solves."""
    host = Tally("web: Host header (DNS rebinding)")
    body = Tally("web: request-body limit")
    frame = Tally("web: framing and security headers")
    five = Tally("web: the six inputs that gave 500")
    busy = Tally("web: 100 concurrent posture requests")
    full = {i: False for i in screen_ids()}
    with tempfile.TemporaryDirectory(prefix="iliopsoas-probe-web-") as tmp:
        db = Path(tmp) / "care.db"
        server = start_server(db, free_port(port_range))
        u = server.url
        try:
            # --- Host header: a foreign name must never read or write the care log
            for method, path, payload in (("GET", "/api/care/sessions", None),
                                          ("POST", "/api/care/measures", {"kind": "nprs", "value": 3}),
                                          ("GET", "/care", None), ("GET", "/api/health", None)):
                for name in ("evil.example", "evil.example:80", "127.0.0.1.evil.example", "localhost.evil"):
                    code, _, _ = call(method, u + path, payload, headers={"Host": name})
                    host.check(code == 400, f"{method} {path} with Host {name}: {code} (expected 400)")
            for name in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", "localhost", "LOCALHOST"):
                code, _, _ = call("GET", u + "/api/health", headers={"Host": name})
                host.check(code == 200, f"GET /api/health with Host {name}: {code} (expected 200)")
            # --- body size: 34 MB is refused before it is read
            big = b'{"answers": {"x": "' + b"a" * (34 * 2**20) + b'"}}'
            code = post_large(server.port, "/api/care/screen", big, chunked=False)
            body.check(code == 413, f"34 MB JSON body: {code} (expected 413)")
            code = post_large(server.port, "/api/care/screen", big, chunked=True)
            body.check(code == 413, f"34 MB chunked body without Content-Length: {code} (expected 413)")
            code, _, _ = call("POST", u + "/api/care/screen", {"answers": full, "log": False})
            body.check(code == 200, f"a normal screen: {code} (expected 200)")
            # --- framing
            for path in ("/care", "/", "/api/health", "/api/care/sessions"):
                _, headers, _ = call("GET", u + path)
                h = {k.lower(): v for k, v in headers.items()}
                framed = h.get("x-frame-options", "").upper() not in ("DENY", "SAMEORIGIN") and \
                    "frame-ancestors" not in h.get("content-security-policy", "")
                frame.check(not framed, f"{path}: can be framed (no X-Frame-Options or frame-ancestors)")
                frame.check(h.get("x-content-type-options") == "nosniff", f"{path}: no X-Content-Type-Options")
            # --- the six 500s
            sid = json.loads(call("POST", u + "/api/care/sessions", {"screen": full, "nprs_before": 2})[2])["session_id"]
            call("POST", f"{u}/api/care/sessions/{sid}/finish", {"nprs_after": 2})
            raw_full = json.dumps(full)
            for path, raw in (("/api/care/assess", f'{{"inputs": {{"thomas_hip_deg": {HUGE_INT}}}}}'),
                              ("/api/care/plan", f'{{"screen": {raw_full}, "assessment": {{"thomas_hip_deg": '
                                                 f'{HUGE_INT}}}}}'),
                              ("/api/care/plan.pdf", f'{{"screen": {raw_full}, "assessment": {{"psfs": '
                                                     f'[{HUGE_INT}]}}}}')):
                code, _, text = call("POST", u + path, raw=raw.encode())
                five.check(code < 500 and code != 200, f"POST {path} with a 400-digit number: {code} {text[:120]!r}")
            code, _, text = call("GET", u + "/api/care/progress?as_of=0001-01-01")
            five.check(code < 500, f"GET /api/care/progress?as_of=0001-01-01: {code} {text[:120]!r}")
            for tight in ({"psoas": {"shortening_pct": 40, "stiffness": 3}},
                          {"iliacus": {"shortening_pct": 40, "stiffness": 3}}):
                code, _, text = call("POST", u + "/api/posture/simulate", {"scenario": "thomas", "tightness": tight},
                                     timeout=600)
                five.check(code < 500, f"posture thomas {tight}: {code} {text[:160]!r}")
            # --- one client must not freeze the app
            if not quick:
                probe_busy(busy, u, full)
        finally:
            server.kill()
    return {t.category: t for t in (host, body, frame, five, busy)}


def post_large(port: int, path: str, data: bytes, *, chunked: bool) -> int:
    """The status of a POST of ``data`` (with Content-Length, or chunked without it); a server may
    answer and close before the whole body is sent, which is what a limit should do."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/json")
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        else:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders()
        step = 1 << 20
        try:
            for i in range(0, len(data), step):
                chunk = data[i:i + step]
                conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk)
            if chunked:
                conn.send(b"0\r\n\r\n")
        except OSError:
            pass
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()


def probe_busy(t: Tally, u: str, full: dict[str, bool], n_posture: int = 100) -> None:
    """100 posture requests at once; meanwhile /api/health and care writes must keep answering
    (within 2 s each) and every refused solve must say when to come back."""
    codes: list[int] = []
    retry: list[bool] = []
    lock = threading.Lock()

    def solve(k: int) -> None:
        try:
            code, headers, _ = call("POST", u + "/api/posture/simulate",
                                    {"scenario": "standing", "tightness": {"psoas": {"shortening_pct": 1 + k % 30}}},
                                    timeout=600)
        except (OSError, http.client.HTTPException):
            code, headers = 0, {}
        with lock:
            codes.append(code)
            if code in (429, 503):
                retry.append(any(k.lower() == "retry-after" for k in headers))

    threads = [threading.Thread(target=solve, args=(k,), daemon=True) for k in range(n_posture)]
    for th in threads:
        th.start()
    time.sleep(0.5)
    waits = []
    for k in range(10):
        t0 = time.monotonic()
        code, _, _ = call("GET", u + "/api/health", timeout=120)
        waits.append(("health", code, time.monotonic() - t0))
        t0 = time.monotonic()
        code, _, _ = call("POST", u + "/api/care/measures", {"kind": "nprs", "value": k % 10}, timeout=120)
        waits.append(("care write", code, time.monotonic() - t0))
        time.sleep(0.1)
    for th in threads:
        th.join(900)
    for what, code, s in waits:
        t.check(code in (200, 201) and s < 2.0, f"{what} during 100 solves: {code} after {s:.1f} s")
    t.check(all(c in (200, 422, 429, 503) for c in codes), f"posture answers: {sorted(set(codes))}")
    t.check(all(retry), f"{retry.count(False)} of {len(retry)} refused solves had no Retry-After")
    t.notes.append(f"posture answers {dict(sorted((c, codes.count(c)) for c in set(codes)))}; slowest health "
                   f"{max(s for w, _, s in waits if w == 'health'):.2f} s, slowest care write "
                   f"{max(s for w, _, s in waits if w != 'health'):.2f} s")


# ----------------------------------------------------------------------------------- safety gate, import
def probe_gate() -> Tally:
    """Attempts to unlock a session past a blocking screen through imported or old screens."""
    t = Tally("safety-gate bypass attempts")
    full = {i: False for i in screen_ids()}
    blocking = {**full, "fever-with-pain": True, "cancer-history": True}
    session_only = {i: False for i in screen_ids("session")}
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="iliopsoas-probe-gate-") as tmp:
        w = Path(tmp)
        (w / "block.json").write_text(json.dumps(blocking))
        (w / "session.json").write_text(json.dumps({"screen": session_only, "nprs_before": 2, "nprs_after": 2}))
        for n, claimed in enumerate(("2099-01-01T00:00:00+00:00", soon, "2026-12-01T00:00:00+00:00")):
            db = str(w / f"care-{n}.db")
            doc = {"format": "iliopsoas-care-log", "sessions": [], "measures": [],
                   "screens": [{"taken_at": claimed, "scope": "full", "level": "clear", "blocked": False,
                                "answers": full}]}
            (w / f"import-{n}.json").write_text(json.dumps(doc))
            orders = (("import", "screen"), ("screen", "import"))[n % 2]
            for step in orders:
                args = (["session", "import", str(w / f"import-{n}.json")] if step == "import"
                        else ["screen", "--answers", str(w / "block.json")])
                run_cli([*args, "--db", db], 60)
            code, out, err, exc = run_cli(["session", "start", "--answers", str(w / "session.json"), "--db", db], 120)
            ran = steps_in(Path(db))
            t.check(code != 0 and not ran and exc is None,
                    f"screen dated {claimed} imported ({' then '.join(orders)}): session exit {code}, "
                    f"{len(ran)} sets logged{' including pressure release' if any('release' in r[0] for r in ran) else ''}")
        # an old database that already holds a future screen (written before imports were checked)
        db = w / "legacy.db"
        con = sqlite3.connect(db)
        con.executescript(
            "CREATE TABLE sessions (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, nprs_before INTEGER, "
            "nprs_after INTEGER, finished_at TEXT, status TEXT NOT NULL DEFAULT 'completed', plan_json TEXT, note TEXT);"
            "CREATE TABLE steps (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), "
            "step_id TEXT NOT NULL, completed_at TEXT NOT NULL, kind TEXT, set_index INTEGER, side TEXT, reps INTEGER, "
            "hold_s REAL, status TEXT NOT NULL DEFAULT 'done');"
            "CREATE INDEX steps_by_session ON steps(session_id);"
            "CREATE TABLE screens (id INTEGER PRIMARY KEY, taken_at TEXT NOT NULL, scope TEXT NOT NULL, "
            "answers_json TEXT NOT NULL, level TEXT NOT NULL, blocked INTEGER NOT NULL);"
            "CREATE TABLE measures (id INTEGER PRIMARY KEY, taken_at TEXT NOT NULL, kind TEXT NOT NULL, "
            "value REAL NOT NULL, side TEXT, note TEXT);"
            "PRAGMA user_version = 2;")
        con.execute("INSERT INTO screens (taken_at, scope, answers_json, level, blocked) VALUES (?, 'full', ?, 'clear', 0)",
                    ("2099-01-01T00:00:00+00:00", json.dumps(full)))
        con.commit()
        con.close()
        run_cli(["screen", "--answers", str(w / "block.json"), "--db", str(db)], 60)
        code, _, _, exc = run_cli(["session", "start", "--answers", str(w / "session.json"), "--db", str(db)], 120)
        t.check(code != 0 and not steps_in(db) and exc is None,
                f"a 2099 screen already in a version-2 database: session exit {code}, {len(steps_in(db))} sets logged")
        # the web: same attack through the API
        port = free_port(range(8125, 8129))
        dbw = w / "web.db"
        code, _, _, _ = run_cli(["session", "import", str(w / "import-1.json"), "--db", str(dbw)], 60)
        server = start_server(dbw, port)
        try:
            call("POST", server.url + "/api/care/screen", {"answers": blocking})
            code, _, body = call("POST", server.url + "/api/care/sessions", {"screen": session_only, "nprs_before": 2})
        finally:
            server.kill()
        t.check(code != 201 and not steps_in(dbw), f"web: import then a blocking screen: session start answered {code}")
    return t


def import_cases() -> list[tuple[str, str]]:
    """(what, file text) of export files each of which must be refused whole."""
    good_session = {"started_at": "2026-02-01T07:00:00+00:00", "status": "completed", "nprs_before": 5,
                    "nprs_after": 3, "steps": [{"step_id": "psoas-release", "kind": "release", "set_index": 1,
                                                "status": "done", "completed_at": "2026-02-01T07:02:00+00:00"}]}
    good_measure = {"taken_at": "2026-02-01T06:58:00+00:00", "kind": "thomas_hip_deg", "value": 6.5}

    def doc(**parts: Any) -> dict[str, Any]:
        return {"format": "iliopsoas-care-log", "sessions": [good_session], "screens": [],
                "measures": [good_measure], **parts}

    def session(**change: Any) -> dict[str, Any]:
        return doc(sessions=[good_session, {**good_session, "started_at": "2026-02-02T07:00:00+00:00", **change}])

    def measure(**change: Any) -> dict[str, Any]:
        return doc(measures=[good_measure, {**good_measure, "taken_at": "2026-02-02T06:58:00+00:00", **change}])

    cases: list[tuple[str, Any]] = [
        ("NPRS 99", session(nprs_before=99)), ("NPRS -5", session(nprs_after=-5)),
        ("NPRS 10^30", session(nprs_before=10**30)), ("NPRS 3.5", session(nprs_before=3.5)),
        ("NPRS true", session(nprs_after=True)), ("status 'finished'", session(status="finished")),
        ("started 'yesterday'", session(started_at="yesterday")), ("started in 2099", session(started_at="2099-01-01T00:00:00")),
        ("started in year 1", session(started_at="0001-01-01T00:00:00")),
        ("step status 'half'", session(steps=[{**good_session["steps"][0], "status": "half"}])),
        ("step reps -1", session(steps=[{**good_session["steps"][0], "reps": -1}])),
        ("step without completed_at", session(steps=[{"step_id": "x"}])),
        ("measure NaN", measure(value="NaN")), ("measure inf", measure(value="Infinity")),
        ("measure 1e308", measure(value=1e308)), ("measure kind 'mood'", measure(kind="mood")),
        ("measure 'last week'", measure(taken_at="last week")), ("tilt 60 deg", measure(kind="standing_tilt_deg", value=60)),
        ("screen dated 2099", doc(screens=[{"taken_at": "2099-01-01T00:00:00+00:00", "scope": "full", "level": "clear",
                                            "blocked": False, "answers": {}}])),
        ("screen answer 'maybe'", doc(screens=[{"taken_at": "2026-02-01T06:00:00+00:00", "scope": "full",
                                                "level": "clear", "blocked": False, "answers": {"fever-with-pain": "maybe"}}])),
        ("screen level 'fine'", doc(screens=[{"taken_at": "2026-02-01T06:00:00+00:00", "scope": "full", "level": "fine",
                                              "blocked": False, "answers": {}}])),
    ]
    out = [(what, json.dumps(d).replace('"NaN"', "NaN").replace('"Infinity"', "Infinity")) for what, d in cases]
    out.append(("a 400-digit NPRS", json.dumps(session(nprs_before=1)).replace('"nprs_before": 1', '"nprs_before": ' + HUGE_INT)))
    return out


def probe_import() -> Tally:
    """Hostile import files: each must be refused whole (nothing written), and the log must stay usable."""
    t = Tally("session import of invalid records")
    with tempfile.TemporaryDirectory(prefix="iliopsoas-probe-import-") as tmp:
        for n, (what, text) in enumerate(import_cases()):
            db = Path(tmp) / f"care-{n}.db"
            f = Path(tmp) / f"import-{n}.json"
            f.write_text(text)
            code, out, err, exc = run_cli(["session", "import", str(f), "--db", str(db)], 60)
            rows = len(steps_in(db))
            con = sqlite3.connect(db)
            try:
                n_rows = sum(con.execute(f"SELECT COUNT(*) FROM {tb}").fetchone()[0]
                             for tb in ("sessions", "measures", "screens")) if rows == 0 else rows
            except sqlite3.Error:
                n_rows = 0
            finally:
                con.close()
            pcode, _, perr, pexc = run_cli(["progress", "--db", str(db)], 60)
            lines = [ln for ln in err.splitlines() if ln.strip()]
            t.check(exc is None and code != 0 and n_rows == 0 and pexc is None and pcode == 0
                    and len(lines) == 1 and lines[0].startswith("error: "),
                    f"{what}: import exit {code}{' ' + exc if exc else ''}, {n_rows} rows written, "
                    f"progress afterwards exit {pcode}{' ' + pexc if pexc else ''}; {lines[-1:]}")
    return t


# ----------------------------------------------------------------------------------- damaged databases
def filled_db(path: Path, sessions: int = 60, sets_per_session: int = 40) -> None:
    """A care database made by the program, then filled through SQL (enough rows for many pages)."""
    code, _, err, exc = run_cli(["session", "list", "--db", str(path)], 60)
    if code != 0 or exc:
        raise RuntimeError(f"cannot create {path}: {err or exc}")
    con = sqlite3.connect(path)
    full = json.dumps({i: False for i in screen_ids()})
    with con:
        for s in range(sessions):
            day = f"2026-0{1 + s // 28}-{1 + s % 28:02d}T07:00:00+00:00"
            cur = con.execute("INSERT INTO sessions (started_at, finished_at, status, nprs_before, nprs_after, plan_json) "
                              "VALUES (?, ?, 'completed', 4, 3, ?)", (day, day, json.dumps({"steps": [{"id": "x" * 50}]})))
            con.executemany("INSERT INTO steps (session_id, step_id, kind, set_index, side, reps, status, completed_at) "
                            "VALUES (?, 'straight-leg-raise', 'strengthen', ?, 'left', 15, 'done', ?)",
                            [(cur.lastrowid, 1 + k % 3, day) for k in range(sets_per_session)])
            con.execute("INSERT INTO screens (taken_at, scope, answers_json, level, blocked) VALUES (?, 'full', ?, 'clear', 0)",
                        (day, full))
            con.execute("INSERT INTO measures (taken_at, kind, value) VALUES (?, 'nprs', 3)", (day,))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def _corrupt_pages(db: Path) -> None:
    data = bytearray(db.read_bytes())
    page = 4096
    n = len(data) // page
    rng = random.Random(7)
    for p in (n // 2, n // 2 + 1, (3 * n) // 4):  # leaf pages in the middle of the steps table
        data[p * page + 8: p * page + page - 8] = bytes(rng.randrange(256) for _ in range(page - 16))
    db.write_bytes(bytes(data))


def _sql(*statements: str) -> Callable[[Path], None]:
    def damage(db: Path) -> None:
        con = sqlite3.connect(db)
        con.execute("PRAGMA writable_schema = ON") if any("sqlite_master" in s for s in statements) else None
        for s in statements:
            con.execute(s)
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()

    return damage


DAMAGE: dict[str, Callable[[Path], None]] = {
    "corrupt pages": _corrupt_pages,
    "truncated file": lambda db: db.write_bytes(db.read_bytes()[: len(db.read_bytes()) * 6 // 10]),
    "missing table": _sql("DROP TABLE measures"),
    "missing column": _sql("ALTER TABLE steps DROP COLUMN status"),
    "bad JSON in a screen": _sql("UPDATE screens SET answers_json = '{not json' WHERE id = 3"),
    "bad JSON in a plan": _sql("UPDATE sessions SET plan_json = '[[[' WHERE id = 5"),
    "not a database": lambda db: db.write_text("these are my notes, not a database\n" * 100),
}


def _digest(db: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for p in (db, Path(f"{db}-wal")):
        if p.exists() and p.stat().st_size:
            h.update(p.read_bytes())
    return h.hexdigest()


def _commands(w: Path, db: Path) -> list[tuple[str, list[str], bool]]:
    """(label, arguments, writes?) of the commands tried on each damaged file."""
    screen = w / "screen.json"
    screen.write_text(json.dumps({i: False for i in screen_ids()}))
    session = session_answers(w / "session.json")
    return [
        ("session list", ["session", "list", "--db", str(db)], False),
        ("session export", ["session", "export", str(w / "out.json"), "--db", str(db)], False),
        ("progress", ["progress", "--db", str(db)], False),
        ("screen", ["screen", "--answers", str(screen), "--db", str(db)], True),
        ("session start", ["session", "start", "--answers", str(session), "--db", str(db)], True),
    ]


def _judge(t: Tally, label: str, code: int, err: str, exc: str | None, writes: bool, damaged: bool,
           changed: bool) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if exc is not None:
        t.check(False, f"{label}: traceback {exc[:160]}")
    elif code != 0 and not (len(lines) == 1 and lines[0].startswith("error: ")):
        t.check(False, f"{label}: exit {code} without a one-line error {lines[-2:]}")
    elif damaged and changed:
        t.check(False, f"{label}: wrote into the damaged file")
    elif writes and code == 0 and damaged:
        t.check(False, f"{label}: reported success on a damaged file")
    else:
        t.check(True, label)


def probe_damaged(web: bool = True) -> Tally:
    """Every damage variant x every command (and two web routes): a one-line message, never a
    traceback or 500, and never a write into the damaged file."""
    t = Tally("damaged, read-only or full care database")
    with tempfile.TemporaryDirectory(prefix="iliopsoas-probe-damage-") as tmp:
        w = Path(tmp)
        for name, damage in DAMAGE.items():
            db = w / f"{name.replace(' ', '-')}.db"
            filled_db(db)
            damage(db)
            for label, args, writes in _commands(w, db):
                before = _digest(db)
                code, _, err, exc = run_cli(args, 120)
                _judge(t, f"{name} / {label}", code, err, exc, writes, True, _digest(db) != before)
            if web:
                _web_on(t, name, db, damaged=True)
        for name in ("read-only file system", "full disk"):
            with small_disk(2048) as disk:
                if disk is None:
                    t.notes.append(f"{name}: tmpfs cannot be mounted here; skipped")
                    continue
                db = disk / "care.db"
                filled_db(db, sessions=10)
                filler = None
                if name == "read-only file system":
                    if not make_read_only(disk):
                        t.notes.append(f"{name}: cannot remount read-only; skipped")
                        continue
                else:
                    filler = fill_disk(disk, 0)
                for label, args, writes in _commands(w, db):
                    before = _digest(db)
                    code, _, err, exc = run_cli(args, 120)
                    lines = [ln for ln in err.splitlines() if ln.strip()]
                    if writes:  # must fail cleanly, nothing half-written
                        _judge(t, f"{name} / {label}", code, err, exc, True, False, False)
                        t.check(code != 0, f"{name} / {label}: exit 0 although nothing can be written")
                    else:  # reading still works (export goes to another disk)
                        t.check(exc is None and code == 0, f"{name} / {label}: exit {code} {exc or lines[-1:]}")
                    if name == "read-only file system":
                        t.check(_digest(db) == before, f"{name} / {label}: the file changed")
                if web:
                    _web_on(t, name, db, damaged=False)
                if filler is not None:
                    filler.unlink()
    return t


def _web_on(t: Tally, name: str, db: Path, *, damaged: bool) -> None:
    """GET the sessions and POST a measurement through the app in-process: no 500, no write if damaged."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from iliopsoas.web import create_app

    client = TestClient(create_app(db=db), raise_server_exceptions=False)
    for method, path, body in (("GET", "/api/care/sessions", None),
                               ("POST", "/api/care/measures", {"kind": "nprs", "value": 3})):
        before = _digest(db)
        r = client.request(method, path, json=body)
        changed = _digest(db) != before
        t.check(r.status_code < 500 or r.status_code == 503,
                f"{name} / web {method} {path}: {r.status_code} {r.text[:120]!r}")
        if damaged:
            t.check(not changed and not (method == "POST" and r.status_code < 300),
                    f"{name} / web {method} {path}: {r.status_code}; wrote into the damaged file: {changed}")


# ----------------------------------------------------------------------------------- SPARQL
SPARQL_CASES = (
    ("SERVICE", "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"),
    ("SERVICE written with \\u escapes", "SELECT * WHERE { \\u0053ERVICE <http://example.org/sparql> { ?s ?p ?o } }"),
    ("cartesian COUNT", "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"),
    ("cartesian rows", "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"),
)


def probe_sparql(api: bool = True) -> Tally:
    """SERVICE must be refused (offline), and a runaway query must end within its bound."""
    t = Tally("atlas SPARQL: SERVICE and runaway queries")
    for what, query in SPARQL_CASES:
        t0 = time.monotonic()
        try:
            code, out, err, exc = run_cli(["atlas", "sparql", query], 60)
        except TimeoutError as e:
            t.check(False, f"CLI {what}: still running after 60 s ({e})")
            continue
        took = time.monotonic() - t0
        refused = code != 0 and exc is None and err.strip().startswith("error: ")
        if what.startswith("SERVICE"):  # refused before any network request (any clean error does that)
            t.check(refused, f"CLI {what}: exit {code} {exc or err.strip()[:120]}")
        else:
            t.check(exc is None and took < 45, f"CLI {what}: exit {code} after {took:.0f} s {exc or err.strip()[:120]}")
    if api:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from fastapi.testclient import TestClient

        from iliopsoas.web import create_app

        with tempfile.TemporaryDirectory() as tmp:
            client = TestClient(create_app(db=Path(tmp) / "c.db"), raise_server_exceptions=False)
            if client.post("/api/atlas/sparql", json={"query": "ASK { ?s ?p ?o }"}).status_code == 404:
                t.notes.append("no SPARQL route in the API: API cases not tried")
                return t
            for what, query in SPARQL_CASES:
                t0 = time.monotonic()
                r = client.post("/api/atlas/sparql", json={"query": query})
                took = time.monotonic() - t0
                ok = r.status_code == 422 if what.startswith("SERVICE") or "COUNT" in what else r.status_code < 500
                t.check(ok and took < 45, f"API {what}: {r.status_code} after {took:.0f} s {r.text[:120]!r}")
    return t


# ----------------------------------------------------------------------------------- all of it
def run_all(full: bool = True, only: tuple[str, ...] = ()) -> list[Tally]:
    """Every category (``full``: the issue's counts: 25 player kills, 7 full disks, 20 server kills)."""
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("gate", probe_gate),
        ("kill", lambda: probe_player_kill(25 if full else 6, seed=1)),
        ("disk", lambda: probe_player_full_disk(7 if full else 3, seed=1)),
        ("server", lambda: probe_server_kill(20 if full else 4, seed=1)),
        ("web", lambda: probe_web(quick=not full)),
        ("sparql", probe_sparql),
        ("import", probe_import),
        ("damage", probe_damaged),
        ("cli", lambda: probe_cli(quick=not full)),
    ]
    out: list[Tally] = []
    for name, fn in steps:
        if only and name not in only:
            continue
        t0 = time.monotonic()
        try:
            res = fn()
        except Exception as exc:  # noqa: BLE001 - a probe that cannot run is reported, not fatal
            res = Tally(f"{name} (probe could not run)", 1, 1, [f"{type(exc).__name__}: {exc}"])
        for t in res.values() if isinstance(res, dict) else [res]:
            t.notes.append(f"{time.monotonic() - t0:.0f} s")
            out.append(t)
            print(t.row(), flush=True)
    return out


if __name__ == "__main__":
    wanted = tuple(a for a in sys.argv[1:] if not a.startswith("-"))
    results = run_all(full="--quick" not in sys.argv, only=wanted)
    print("\n| category | tries | failures |\n|---|---|---|")
    for r in results:
        print(r.row())
    for r in results:
        for e in r.examples[:30]:
            print(f"  FAIL [{r.category}] {e}")
        for n in r.notes[:30]:
            print(f"  note [{r.category}] {n}")
