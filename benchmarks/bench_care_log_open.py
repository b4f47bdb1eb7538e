"""What the damage check costs each time the care log is opened (every care command, every care request).

Peer, measured in the same run: a plain SQLite connection that reads one row of the same file.
Prints medians over 30 opens for a small log (60 sessions, 2,400 sets) and a large one (1,000
sessions, 40,000 sets: years of daily use), the ratio, and the machine's load.

    .venv/bin/python benchmarks/bench_care_log_open.py
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from iliopsoas.care.log import CareLog


def fill(path: Path, sessions: int, sets_per_session: int = 40) -> None:
    CareLog(path).close()
    con = sqlite3.connect(path)
    with con:
        for s in range(sessions):
            day = f"2026-01-01T07:{s // 60 % 60:02d}:{s % 60:02d}+00:00"
            cur = con.execute("INSERT INTO sessions (started_at, status, plan_json) VALUES (?, 'completed', ?)",
                              (day, json.dumps({"steps": []})))
            con.executemany("INSERT INTO steps (session_id, step_id, status, completed_at) VALUES (?, 'x', 'done', ?)",
                            [(cur.lastrowid, day)] * sets_per_session)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def median_ms(fn, n: int = 30) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def plain(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("SELECT * FROM sessions LIMIT 1").fetchall()
    con.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for sessions in (60, 1000):
            db = Path(tmp) / f"care-{sessions}.db"
            fill(db, sessions)
            ours = median_ms(lambda db=db: CareLog(db).close())
            peer = median_ms(lambda db=db: plain(db))
            print(f"{sessions:5d} sessions ({db.stat().st_size / 1e6:.1f} MB): CareLog open {ours:.1f} ms, plain sqlite "
                  f"{peer:.2f} ms, ratio {ours / peer:.0f}x")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work may have been running)")


if __name__ == "__main__":
    main()
