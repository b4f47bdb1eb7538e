"""``/api/ask``: offline answers from the atlas, with the statements and sources they rest on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from iliopsoas.web.schemas import AskIn

router = APIRouter(prefix="/api", tags=["ask"])


@router.post("/ask")
def ask(request: Request, body: AskIn) -> Any:
    """Answer a question, or say honestly that the sources do not cover it (``answered: false``)."""
    from iliopsoas.knowledge import DataError
    from iliopsoas.knowledge.ask import Answer
    from iliopsoas.knowledge.ask import ask as answer_question

    try:
        atlas = request.app.state.settings.atlas()
    except DataError as exc:
        raise HTTPException(503, f"the atlas data is broken ({len(exc.problems)} problem(s))") from None
    try:
        result: Answer = answer_question(body.question, atlas=atlas)
    except ValueError as exc:
        raise HTTPException(422, str(exc).replace("ask(question)", "question")) from None
    return result.model_dump()
