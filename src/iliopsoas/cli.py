"""The ``iliopsoas`` command: one Typer app; each subcommand is thin over the library.

Subcommand groups live in :mod:`iliopsoas.commands` and import their libraries lazily, so
``iliopsoas --help`` and ``iliopsoas ask`` start fast.
"""

from __future__ import annotations

import os
from typing import Any

import click
import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from iliopsoas import __version__
from iliopsoas.commands import ask as ask_command
from iliopsoas.commands import atlas, care
from iliopsoas.commands import model as model_command
from iliopsoas.commands import serve as serve_command


class _OneLineErrors(TyperGroup):
    """The root command: whatever a command lets escape ends as one ``error:`` line, never a traceback.

    Commands check their own input and name the option; this is the net under them. The care log's
    errors (full disk, read-only or damaged file, refused record) and file errors keep their own
    words; anything else is reported as an internal error (``ILIOPSOAS_DEBUG=1`` shows the traceback).
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException, click.exceptions.Exit, click.ClickException):
            raise  # usage errors and exits: Typer (which bundles its own click) prints them
        except Exception as exc:
            if os.environ.get("ILIOPSOAS_DEBUG"):
                raise
            from iliopsoas.commands._common import fail

            fail(_explain(exc))


def _explain(exc: Exception) -> str:
    from iliopsoas.care.log import LogError
    from iliopsoas.care.records import RecordError

    if isinstance(exc, LogError | RecordError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, RecursionError):
        return "an input is nested too deeply to read; expected a plain file as the command's help describes"
    if isinstance(exc, MemoryError):
        return "out of memory: an input is too large; expected a smaller file or range"
    return f"internal error ({type(exc).__name__}: {exc}); please report it (ILIOPSOAS_DEBUG=1 shows the traceback)"


app = typer.Typer(
    cls=_OneLineErrors,
    name="iliopsoas",
    help="The hip-flexor complex (psoas major, psoas minor, iliacus), made computable.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"iliopsoas {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """The hip-flexor complex (psoas major, psoas minor, iliacus), made computable."""


app.add_typer(atlas.app, name="atlas")
app.command("ask")(ask_command.ask)
app.command("screen")(care.screen)
app.command("assess")(care.assess)
app.command("plan")(care.plan)
app.command("progress")(care.progress)
app.add_typer(care.session_app, name="session")
app.add_typer(model_command.app, name="model")
app.command("serve")(serve_command.serve)
app.add_typer(care.outcomes_app, name="outcomes")
app.add_typer(__import__("iliopsoas.commands.simulate", fromlist=["app"]).app, name="simulate")
app.add_typer(__import__("iliopsoas.commands.population", fromlist=["app"]).app, name="population")
app.add_typer(__import__("iliopsoas.commands.data", fromlist=["app"]).app, name="data")
app.command("validate")(__import__("iliopsoas.commands.validate", fromlist=["validate"]).validate)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
