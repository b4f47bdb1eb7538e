"""``/api/ask``: offline answers from what the project knows, with the statements and sources they rest on.

The response is :class:`iliopsoas.knowledge.ask.Answer`, the same model the CLI prints with ``--json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from iliopsoas.knowledge.ask import Answer as AnswerOut
from iliopsoas.web.schemas import AskIn

router = APIRouter(prefix="/api", tags=["ask"])


@router.post("/ask", response_model=AnswerOut)
def ask(request: Request, body: AskIn) -> Any:
    """Answer a question (``kind: answer``), refuse honestly (``refusal``) or lead with safety (``safety``)."""
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
