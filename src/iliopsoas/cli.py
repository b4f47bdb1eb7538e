"""The ``iliopsoas`` command: one Typer app; each subcommand is thin over the library.

Subcommand groups live in :mod:`iliopsoas.commands` and import their libraries lazily, so
``iliopsoas --help`` and ``iliopsoas ask`` start fast.
"""

from __future__ import annotations

import typer

from iliopsoas import __version__
from iliopsoas.commands import ask as ask_command
from iliopsoas.commands import atlas, care
from iliopsoas.commands import model as model_command
from iliopsoas.commands import serve as serve_command

app = typer.Typer(
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
app.add_typer(__import__("iliopsoas.commands.simulate", fromlist=["app"]).app, name="simulate")
app.command("validate")(__import__("iliopsoas.commands.validate", fromlist=["validate"]).validate)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
