"""Small helpers shared by the command modules: JSON output and clean failures."""

from __future__ import annotations

import json
import sys
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
