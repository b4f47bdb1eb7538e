"""SPARQL with bounds on time, rows and memory: a query runs in a child process that is killed when
its time is up.

pyoxigraph evaluates a query inside one call that neither signals nor threads can interrupt (a
cartesian product of three triple patterns over the atlas runs for minutes), so
:func:`run_bounded` forks: the child inherits the store (no copy, no rebuild), runs
:func:`iliopsoas.knowledge.rdf.sparql` with a row limit and an address-space limit, and sends the
answer back as plain values; the parent waits at most ``timeout_s`` and then kills it. Queries
with ``SERVICE`` are refused before anything runs (the atlas is answered offline).
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

import pyoxigraph as ox

from iliopsoas.knowledge.rdf import SparqlError, SparqlRefused, SparqlResult, check_offline, sparql

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_ROWS = 10_000
CHILD_EXTRA_MEMORY = 1 * 2**30  # address space the child may add to what it inherits

__all__ = ["DEFAULT_MAX_ROWS", "DEFAULT_TIMEOUT_S", "SparqlTimeout", "run_bounded"]


class SparqlTimeout(SparqlError):
    """The query ran past its time (or memory) bound and was stopped."""


def run_bounded(
    store: ox.Store, query: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, max_rows: int = DEFAULT_MAX_ROWS
) -> SparqlResult:
    """:func:`~iliopsoas.knowledge.rdf.sparql` stopped after ``timeout_s`` seconds and ``max_rows`` rows.

    Raises :class:`~iliopsoas.knowledge.rdf.SparqlError` for a malformed or refused query and
    :class:`SparqlTimeout` when the bound is reached. Where ``fork`` is not available the query
    runs in this process with the row bound only.
    """
    if not isinstance(query, str) or not query.strip():
        raise SparqlError("the query is empty")
    check_offline(query)
    if "fork" not in multiprocessing.get_all_start_methods():
        return sparql(store, query, max_rows=max_rows)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(store, query, max_rows, send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout_s):
            raise SparqlTimeout(f"the query ran past its bound of {timeout_s:g} s and was stopped; "
                                "narrow it (fewer unbound patterns, a LIMIT)")
        try:
            kind, payload = receive.recv()
        except EOFError:
            raise SparqlTimeout("the query used more memory than allowed and was stopped; narrow it "
                                "(fewer unbound patterns, a LIMIT)") from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    if kind == "error":
        raise SparqlError(payload)
    if kind == "refused":
        raise SparqlRefused(payload)
    return _result(payload)


def _child(store: ox.Store, query: str, max_rows: int, send: Any) -> None:
    try:
        _limit_memory()
        res = sparql(store, query, max_rows=max_rows)
        send.send(("ok", _plain(res)))
    except SparqlRefused as exc:
        send.send(("refused", str(exc)))
    except SparqlError as exc:
        send.send(("error", str(exc)))
    except MemoryError:
        send.send(("error", "the query used more memory than allowed; narrow it (fewer unbound patterns, a LIMIT)"))
    except OSError as exc:
        send.send(("error", f"the query could not run: {exc}"))
    finally:
        send.close()


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm") as fh:
            current = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = current + CHILD_EXTRA_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError, ImportError):  # not Linux: the time bound still holds
        return


# ------------------------------------------------------------------------- terms across the pipe
def _term(t: Any) -> Any:
    if t is None:
        return None
    if isinstance(t, ox.NamedNode):
        return ("n", t.value)
    if isinstance(t, ox.BlankNode):
        return ("b", t.value)
    if isinstance(t, ox.Literal):
        return ("l", t.value, t.datatype.value, t.language)
    if isinstance(t, ox.Triple):
        return ("t", _term(t.subject), _term(t.predicate), _term(t.object))
    return ("l", str(t), None, None)


def _unterm(p: Any) -> Any:
    if p is None:
        return None
    if p[0] == "n":
        return ox.NamedNode(p[1])
    if p[0] == "b":
        return ox.BlankNode(p[1])
    if p[0] == "t":
        return ox.Triple(_unterm(p[1]), _unterm(p[2]), _unterm(p[3]))
    _, value, datatype, language = p
    if language:
        return ox.Literal(value, language=language)
    return ox.Literal(value, datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(value)


def _plain(res: SparqlResult) -> dict[str, Any]:
    return {
        "kind": res.kind,
        "variables": list(res.variables),
        "rows": [{k: _term(v) for k, v in row.items()} for row in res.rows],
        "boolean": res.boolean,
        "triples": [(_term(t.subject), _term(t.predicate), _term(t.object)) for t in res.triples],
        "truncated": res.truncated,
    }


def _result(d: dict[str, Any]) -> SparqlResult:
    return SparqlResult(
        kind=d["kind"],
        variables=tuple(d["variables"]),
        rows=tuple({k: _unterm(v) for k, v in row.items()} for row in d["rows"]),
        boolean=d["boolean"],
        triples=tuple(ox.Triple(_unterm(s), _unterm(p), _unterm(o)) for s, p, o in d["triples"]),
        truncated=d["truncated"],
    )
