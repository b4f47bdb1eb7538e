"""``iliopsoas serve``: run the local web app (atlas, ask, model, care) with uvicorn.

Bound to 127.0.0.1 by default. Any other address is reachable from other machines, so it prints
a warning and requires a token (``--token`` or ``$ILIOPSOAS_TOKEN``), checked on every API request.
Exit codes: 2 for bad usage (a non-loopback host without a token, a port out of range), 1 for a
path that does not exist or a port that is taken.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from iliopsoas.commands._common import err_console, fail

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _has_display() -> bool:
    """Whether a graphical browser can open; without one, Python would start a text browser in this terminal."""
    import sys

    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _check_inputs(db: Path | None, osim: Path | None) -> None:
    """Fail now, before the server starts, if the model or the care database cannot be opened
    (otherwise the pages would answer 503 later, far from the option that caused it)."""
    if osim is not None:
        from iliopsoas.mechanics import OsimError, load_osim

        try:
            load_osim(osim, strict=False)
        except OsimError as exc:
            fail(f"--osim: {exc}")
    if db is not None or os.environ.get("ILIOPSOAS_DB"):
        from iliopsoas.care.log import CareLog, LogError

        try:
            CareLog(db).close()
        except LogError as exc:
            fail(f"--db: {exc}")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (other than loopback needs --token)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    token: str = typer.Option(None, "--token", help="Require this token on every API request (default: $ILIOPSOAS_TOKEN)."),
    db: Path = typer.Option(None, "--db", help="Care database file (default: $ILIOPSOAS_DB or the user data dir)."),
    osim: Path = typer.Option(None, "--osim", help="Show this OpenSim model on the Model page instead of ours."),
    geometry: Path = typer.Option(None, "--geometry", help="An OpenSim Geometry folder of .vtp bone meshes."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a web browser (none is opened without a display)."),
) -> None:
    """Start the local web app and print its address."""
    secret: str | None = token or os.environ.get("ILIOPSOAS_TOKEN") or None
    if not 1 <= port <= 65535:
        fail(f"--port must be 1-65535, got {port}", 2)
    if not is_loopback(host):
        if not secret:
            fail(f"--host {host} is not a loopback address (the app would be reachable from other machines): give "
                 "--token TOKEN (or set ILIOPSOAS_TOKEN)", 2)
        err_console.print(f"[bold yellow]warning:[/] binding to {host} makes the app reachable from other machines; "
                          "every API request must carry the token.", highlight=False)
    for label, path, want_dir in (("--osim", osim, False), ("--geometry", geometry, True)):
        if path is not None and not (path.is_dir() if want_dir else path.is_file()):
            fail(f"{label}: {path} is not an existing {'folder' if want_dir else 'file'}")
    _check_inputs(db, osim)
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        # as uvicorn will bind: a port left in TIME_WAIT by a server that was just killed is free again,
        # one with a live listener is not
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")

    import uvicorn

    from iliopsoas.web import create_app

    app = create_app(db=db, token=secret, osim=osim, geometry=geometry, warm=True, host=host)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={secret}" if secret else "")
    typer.echo(f"iliopsoas app: {url}  (Ctrl+C to stop)", err=False)
    if not no_browser and _has_display():
        import threading
        import webbrowser

        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
