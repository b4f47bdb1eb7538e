"""``iliopsoas ask "QUESTION"``: offline answers from what the project knows, with their sources.

Exit codes: 0 for an answer, an honest refusal (``answered: false``) or a safety answer; 2 for an
empty or too long question; 3 when the atlas data files are broken. ``ILIOPSOAS_ATLAS_DIR`` points
the command at another data folder, as for ``iliopsoas atlas``. ``--json`` prints the same
:class:`~iliopsoas.knowledge.ask.Answer` model as ``POST /api/ask``.
"""

from __future__ import annotations

import typer

from iliopsoas.commands._common import fail, print_json


def ask(
    question: str = typer.Argument(..., help="The question, in quotes, e.g. \"What nerve supplies the iliacus?\""),
    json_out: bool = typer.Option(False, "--json", help="Print the answer as JSON (shape in docs/cli.md)."),
    more: bool = typer.Option(False, "--more", help="Also print every passage found, with its sources."),
) -> None:
    """Answer a question about the hip-flexor complex from the sourced atlas (offline)."""
    from rich.markup import escape

    from iliopsoas.commands.atlas import _atlas
    from iliopsoas.knowledge.ask import ask as answer_question

    atlas = _atlas()
    try:
        result = answer_question(question, atlas=atlas)
    except ValueError as exc:
        fail(escape(str(exc).replace("ask(question)", "QUESTION")), 2)
    if json_out:
        print_json(result.model_dump())
        return
    typer.echo(result.answer)
    if more and result.more:
        typer.echo("\n" + result.more)
    if result.statements:
        typer.echo("\nStatements: " + ", ".join(f"{s.id} ({s.status})" for s in result.statements))
    if result.sources:
        typer.echo("Sources:")
        for s in result.sources:
            typer.echo(f"  {s.id}: {s.citation or s.title}")
    typer.echo(f"Confidence: {result.confidence:.2f}" + (f" · safety: {', '.join(result.safety)}" if result.safety else ""))
