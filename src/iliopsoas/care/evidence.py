"""Look up the atlas evidence behind a care rule: sources, claims, statements and model verdicts.

The atlas is built in parallel with this package and may lack an id, or fail to load at all. Every
lookup here is defensive: a missing id is reported as ``{"id": ..., "found": False}`` (and collected
by :func:`missing_refs`) instead of raising, so the care rules keep working on their own tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache(maxsize=1)
def _atlas() -> Any | None:
    try:
        from iliopsoas.knowledge import load_atlas

        return load_atlas()
    except Exception:  # the atlas is optional here: any failure means "no atlas evidence"
        return None


def atlas_available() -> bool:
    """Whether the atlas loaded (validated) in this process."""
    return _atlas() is not None


def source_ref(source_id: str) -> dict[str, Any]:
    """``{"id", "found", "title"?}`` for one atlas source key."""
    atlas = _atlas()
    src = atlas.sources.get(source_id) if atlas is not None else None
    if src is None:
        return {"id": source_id, "found": False}
    return {"id": source_id, "found": True, "title": src.title}


@lru_cache(maxsize=1)
def _model_verdict_files() -> dict[str, Any]:
    """Model verdicts read straight from ``knowledge/data/model_verdicts/*.json`` (used without an atlas)."""
    folder = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "model_verdicts"
    out: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(doc, dict):
            out.update({k: v for k, v in doc.items() if isinstance(v, dict) and "verdict" in v})
    return out


def claim_ref(claim_id: str) -> dict[str, Any]:
    """A ledger claim with its verdict, linked statements (id + status) and model verdict, if known.

    Without an atlas, a model verdict is still attached when a posture/mechanics analysis left one.
    """
    atlas = _atlas()
    claim = atlas.claims.get(claim_id) if atlas is not None else None
    if atlas is None or claim is None:
        ref: dict[str, Any] = {"id": claim_id, "found": False}
        mv_raw = _model_verdict_files().get(claim_id)
        if mv_raw is not None:
            ref["model_verdict"] = mv_raw
        return ref
    statements = []
    for sid in claim.statements:
        fact = atlas.statements.get(sid)
        statements.append(
            {"id": sid, "found": True, "status": fact.status.value}
            if fact is not None
            else {"id": sid, "found": False}
        )
    mv = claim.model_verdict
    return {
        "id": claim_id,
        "found": True,
        "verdict": claim.verdict.value,
        "statements": statements,
        "model_verdict": mv.model_dump(mode="json") if mv is not None else None,
    }


def refs(sources: Iterable[str] = (), claims: Iterable[str] = ()) -> dict[str, list[dict[str, Any]]]:
    """Resolve a rule's ``sources`` and ``claims`` lists in one go."""
    return {"sources": [source_ref(s) for s in sources], "claims": [claim_ref(c) for c in claims]}


def missing_refs(sources: Iterable[str] = (), claims: Iterable[str] = ()) -> list[str]:
    """The ids (sources, claims and the statements claims point to) the atlas does not hold."""
    out: list[str] = []
    for s in sources:
        if not source_ref(s)["found"]:
            out.append(f"source:{s}")
    for c in claims:
        ref = claim_ref(c)
        if not ref["found"]:
            out.append(f"claim:{c}")
            continue
        out += [f"statement:{st['id']}" for st in ref["statements"] if not st["found"]]
    return out
