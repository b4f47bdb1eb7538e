"""``iliopsoas ask "QUESTION"``: offline answers from the atlas, with their statements and sources.

Exit codes: 0 for an answer or an honest refusal (``answered: false``), 2 for an empty or too
long question, 3 when the atlas data files are broken. ``ILIOPSOAS_ATLAS_DIR`` points the command
at another data folder, as for ``iliopsoas atlas``.
"""

from __future__ import annotations

import typer

from iliopsoas.commands._common import fail, print_json


def ask(
    question: str = typer.Argument(..., help="The question, in quotes, e.g. \"What nerve supplies the iliacus?\""),
    json_out: bool = typer.Option(False, "--json", help="Print the answer as JSON (shape in docs/cli.md)."),
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
    if result.statements:
        typer.echo("\nStatements: " + ", ".join(f"{s.id} ({s.status})" for s in result.statements))
    if result.sources:
        typer.echo("Sources: " + "; ".join(f"{s.id}: {s.title}" for s in result.sources))
    typer.echo(f"Confidence: {result.confidence:.2f}")
