"""Small helpers shared by the command modules: JSON output and clean failures."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (no Rich markup, stable key order)."""
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=_default) + "\n")


def _default(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # numpy is a hard dependency; this guards odd environments only
        pass
    if hasattr(o, "model_dump"):
        return o.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(o).__name__} to JSON")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``; never a traceback.

    The message stays on one line (no wrapping at the terminal width) so that scripts and tests
    can match it whatever the width.
    """
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def output_path(path: Path, option: str, *, suffixes: tuple[str, ...] = ()) -> Path:
    """``path`` if a file can be written there, else exit 1 naming ``option``.

    The folder must already exist (nothing is created on the way: a typo in a path must not leave
    folders behind), the path must be a regular file or new (not a folder, not a device such as
    /dev/full, whose write errors some writers swallow), and its suffix one of ``suffixes`` when given.
    """
    if suffixes and path.suffix.lower() not in suffixes:
        fail(f"{option} must name a {' or '.join(suffixes)} file, got {str(path)!r}", 2)
    if path.is_dir():
        fail(f"{option}: {str(path)!r} is a folder; expected a file name")
    if path.exists() and not path.is_file():  # /dev/full, a pipe: writers may not report a failed write
        fail(f"{option}: {str(path)!r} is not a regular file (a device or a pipe); expected a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        import errno
        import os

        why = (f"{os.strerror(errno.ENOTDIR)} ({str(parent)!r} is a file)" if parent.exists()
               else f"{os.strerror(errno.ENOENT)} (the folder {str(parent)!r} does not exist; it is not created)")
        fail(f"{option}: cannot write {str(path)!r}: {why}")
    return path


def input_path(path: Path, option: str, *, max_bytes: int = 50 * 2**20) -> Path:
    """``path`` if it is a regular file of at most ``max_bytes``, else exit 1 naming ``option``
    (a folder, a device such as /dev/zero or a FIFO would otherwise be read without end)."""
    try:
        st = path.stat()
    except OSError as exc:
        fail(f"{option}: cannot read {str(path)!r}: {exc.strerror or exc}")
    import stat

    if stat.S_ISDIR(st.st_mode):
        fail(f"{option}: {str(path)!r} is a folder; expected a file")
    if not stat.S_ISREG(st.st_mode):
        fail(f"{option}: {str(path)!r} is not a regular file (a device or a pipe); expected a file")
    if st.st_size > max_bytes:
        fail(f"{option}: {str(path)!r} is {st.st_size / 2**20:.0f} MB; expected at most {max_bytes // 2**20} MB")
    return path
