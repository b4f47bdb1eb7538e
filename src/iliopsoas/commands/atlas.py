"""``iliopsoas atlas …``: browse, search and query the sourced knowledge base.

Every command takes ``--json`` (shapes in docs/cli.md). Exit codes: 1 unknown name or bad
option value, 2 malformed query or usage, 3 broken data files. ``ILIOPSOAS_ATLAS_DIR`` points the
commands at another data folder (tests, data engineers checking a draft).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from iliopsoas.commands._common import console, err_console, fail, input_path, output_path, print_json

if TYPE_CHECKING:
    from rich.text import Text

    from iliopsoas.knowledge.schema import Claim, Conflict, Entity, Position
    from iliopsoas.knowledge.store import Atlas, Fact

app = typer.Typer(
    help="The atlas: anatomy of the hip-flexor complex, every statement sourced and graded.",
    no_args_is_help=True,
)

JSON_OPT = typer.Option(False, "--json", help="Print JSON (shapes in docs/cli.md).")

STATUS_STYLE = {
    "consistent": ("green", "✔"),
    "contradicted": ("bold red", "✘"),
    "disputed": ("yellow", "?"),
    "opinion": ("magenta", "~"),
}
VERDICT_ALIASES = {
    "disputed/evidence-weak": "disputed",
    "evidence-weak": "disputed",
    "weak": "disputed",
    "opinion/marketing": "opinion",
    "marketing": "opinion",
}


# ----------------------------------------------------------------------------- helpers


def _atlas() -> Atlas:
    from iliopsoas.knowledge.store import DataError, load_atlas

    folder = os.environ.get("ILIOPSOAS_ATLAS_DIR") or None
    try:
        return load_atlas(folder)
    except DataError as exc:
        lines = "\n".join(f"  {p}" for p in exc.problems)
        fail(f"the atlas data is broken ({len(exc.problems)} problem(s)):\n{lines}", 3)


def _resolve(atlas: Atlas, name: str) -> Entity:
    from iliopsoas.knowledge.store import UnknownName

    try:
        return atlas.resolve(name)
    except UnknownName as exc:
        closest = ", ".join(exc.suggestions) or "none"
        fail(f"unknown name {name!r}; closest: {closest}", 1)


def _status_text(status: str, conflicts: tuple[str, ...] = (), agreed: tuple[str, ...] = ()) -> Text:
    """The status mark, then ``⚠ K…`` for the conflicts where the statement takes a side and a plain
    note for those whose every side accepts it (``agreed``: shared ground, not a disagreement)."""
    from rich.text import Text

    style, mark = STATUS_STYLE.get(status, ("", ""))
    t = Text(f"{mark} {status}", style=style)
    if conflicts:
        t.append(f"\n⚠ {', '.join(conflicts)}", style="bold red")
    if agreed:
        t.append(f"\nagreed by all sides of {', '.join(agreed)}", style="dim")
    return t


def _literal_text(f: Fact) -> str:
    from iliopsoas.knowledge.store import literal_text

    return literal_text(f.literal) if f.literal is not None else ""


def _object_text(atlas: Atlas, f: Fact) -> str:
    if f.object is not None:
        e = atlas.entities.get(f.object)
        return e.name if e else f.object
    return _literal_text(f)


def _qualifier_text(atlas: Atlas, f: Fact) -> str:
    def show(v: Any) -> str:
        if isinstance(v, str) and v in atlas.entities:
            return atlas.entities[v].name
        if isinstance(v, dict):
            return ", ".join(f"{k} {show(x)}" for k, x in v.items())
        return str(v)

    parts = []
    for k, v in f.qualifiers.items():
        val = ", ".join(map(show, v)) if isinstance(v, list) else show(v)
        parts.append(f"{k.replace('_', ' ')}: {val}")
    return "; ".join(parts)


def _sources_text(f: Fact) -> str:
    return ", ".join(f"{s.source} ({s.locator})" if s.locator else s.source for s in f.sources)


def _predicate_label(p: str) -> str:
    return p.replace("_", " ")


# ----------------------------------------------------------------------------- list


def _parse_kind(text: str) -> str:
    from rapidfuzz import fuzz, process

    from iliopsoas.knowledge.schema import Kind

    choices = [k.value for k in Kind]
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    for cand in (key, key[:-1] if key.endswith("s") else key):
        if cand in choices:
            return cand
    hit = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=60)
    hint = f" (did you mean {hit[0]!r}?)" if hit else ""
    fail(f"--kind: unknown kind {text!r}{hint}; expected one of {', '.join(choices)}", 1)


@app.command("list")
def list_entities(
    kind: str | None = typer.Option(None, "--kind", "-k", help="Only this kind, e.g. muscle, bone, nerve."),
    as_json: bool = JSON_OPT,
) -> None:
    """List the entities of the atlas (optionally of one kind)."""
    atlas = _atlas()
    k = _parse_kind(kind) if kind is not None else None
    ents = atlas.entities_of_kind(k)
    if as_json:
        print_json(
            [
                {
                    "id": e.id,
                    "name": e.name,
                    "kind": e.kind.value,
                    "laterality": e.laterality.value,
                    "synonyms": list(e.synonyms),
                    "statements": len(atlas.facts_about(e.id)),
                }
                for e in ents
            ]
        )
        return
    from rich.table import Table

    table = Table(title=f"{len(ents)} entities" + (f" of kind {k}" if k else ""), expand=True)
    table.add_column("name [dim](id when it differs)[/]", ratio=3)
    table.add_column("kind", no_wrap=True)
    table.add_column("synonyms", ratio=3)
    table.add_column("stmts", justify="right", no_wrap=True)
    for e in ents:
        syn = ", ".join(e.synonyms[:3]) + (f" (+{len(e.synonyms) - 3})" if len(e.synonyms) > 3 else "")
        label = f"[bold]{escape(e.name)}[/]"
        if e.id != e.name.replace(" ", "-"):
            label += f" [dim cyan]{e.id}[/]"
        table.add_row(label, e.kind.value, escape(syn), str(len(atlas.facts_about(e.id))))
    console.print(table)


# ----------------------------------------------------------------------------- show


def _claims_about(atlas: Atlas, facts: list[Fact]) -> list[Claim]:
    """Seed claims (in id order) that rest on any of ``facts``."""
    ids = {f.id for f in facts}
    return [c for c in atlas.claims_for() if ids.intersection(c.statements)]


def _entity_json(atlas: Atlas, e: Entity) -> dict[str, Any]:
    from iliopsoas.knowledge.store import fact_to_dict

    about = atlas.facts_about(e.id)
    mentioning = atlas.facts_mentioning(e.id)
    claims = [c.id for c in _claims_about(atlas, [*about, *mentioning])]
    return {
        "id": e.id,
        "name": e.name,
        "kind": e.kind.value,
        "laterality": e.laterality.value,
        "latin": e.latin,
        "summary": e.summary,
        "synonyms": list(e.synonyms),
        "xrefs": {
            "uberon": e.xrefs.uberon.model_dump(mode="json"),
            "fma": e.xrefs.fma.model_dump(mode="json"),
        },
        "statements": [fact_to_dict(f) for f in about],
        "mentioned_by": [fact_to_dict(f, with_subject=True) for f in mentioning],
        "claims": claims,
    }


def _xref_text(label: str, x: Any) -> str:
    if x.id is None:
        return f"{label}: [dim]not found[/]"
    if x.status.value == "confirmed":
        return f"{label}: [green]{escape(x.id)}[/] ✔"
    return f"{label}: [yellow]{escape(x.id)}[/] [dim](unconfirmed)[/]"


def _statements_table(atlas: Atlas, facts: list[Fact], title: str, *, subject_column: bool) -> Any:
    from rich.table import Table

    from iliopsoas.knowledge.schema import Predicate

    order = {p.value: i for i, p in enumerate(Predicate)}
    facts = sorted(
        facts,
        key=lambda f: (order[f.predicate.value], f.sources[0].source.startswith("seed-"), f.id),
    )
    table = Table(title=title, title_justify="left", title_style="bold", expand=True, show_lines=False)
    if subject_column:
        table.add_column("subject", style="cyan", ratio=2)
    table.add_column("predicate", style="bold", ratio=2)
    table.add_column("object / value", ratio=4)
    table.add_column("qualifiers", ratio=3, style="dim")
    table.add_column("status", ratio=2)
    table.add_column("sources", ratio=2, style="blue")
    last = None
    for f in facts:
        p = f.predicate.value
        if last is not None and p != last and not subject_column:
            table.add_section()
        label = _predicate_label(p) if (p != last or subject_column) else ""
        row: list[Any] = [
            escape(label),
            escape(_object_text(atlas, f)) + (f"\n[dim italic]{escape(f.note)}[/]" if f.note else ""),
            escape(_qualifier_text(atlas, f)),
            _status_text(
                f.status.value,
                tuple(k for k in f.conflicts if f.id not in atlas.conflicts[k].agreed),
                tuple(k for k in f.conflicts if f.id in atlas.conflicts[k].agreed),
            ),
            escape(_sources_text(f)),
        ]
        if subject_column:
            subj = atlas.entities[f.subject].name if f.subject in atlas.entities else f.subject
            row.insert(0, escape(subj))
        table.add_row(*row)
        last = p
    return table


@app.command("show")
def show(
    name: str = typer.Argument(
        ..., help="Any name: id, canonical name, synonym or lay word; typos tolerated."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Show one entity with every sourced statement about it."""
    atlas = _atlas()
    e = _resolve(atlas, name)
    if as_json:
        print_json(_entity_json(atlas, e))
        return
    from rich.panel import Panel

    about = atlas.facts_about(e.id)
    mentioning = atlas.facts_mentioning(e.id)
    lines = [
        f"[bold]{escape(e.name)}[/]  [dim]({e.kind.value.replace('_', ' ')}, {e.laterality.value.replace('_', ' ')})[/]"
    ]
    if e.latin:
        lines.append(f"[italic]{escape(e.latin)}[/]")
    if e.synonyms:
        lines.append("also called: " + escape(", ".join(e.synonyms)))
    lines.append(_xref_text("UBERON", e.xrefs.uberon) + "   " + _xref_text("FMA", e.xrefs.fma))
    if e.summary:
        lines.append("")
        lines.append(escape(e.summary))
    console.print(Panel("\n".join(lines), title=f"[cyan]{e.id}[/]", title_align="left", border_style="cyan"))
    from_seeds = [
        f for f in about if all(atlas.sources[s.source].kind.value == "seed_article" for s in f.sources)
    ]
    reference = [f for f in about if f not in from_seeds]
    if reference:
        console.print(
            _statements_table(
                atlas,
                reference,
                f"What reference sources say about {e.name} ({len(reference)})",
                subject_column=False,
            )
        )
    if from_seeds:
        console.print(
            _statements_table(
                atlas,
                from_seeds,
                f"What the seed articles say about {e.name} ({len(from_seeds)})",
                subject_column=False,
            )
        )
    if not about:
        console.print("[dim]No statements have this entity as their subject.[/]")
    if mentioning:
        console.print(
            _statements_table(
                atlas,
                mentioning,
                f"Statements that point at {e.name} ({len(mentioning)})",
                subject_column=True,
            )
        )
    kids = sorted({k for f in [*about, *mentioning] for k in f.conflicts}, key=lambda k: int(k[1:]))
    for kid in kids:
        k = atlas.conflicts[kid]
        sides = "\n".join(f"• {_position_title(k, p)}" for p in k.positions)
        if all(f.id in k.agreed for f in [*about, *mentioning] if kid in f.conflicts):
            sides += "\n[dim]The statements above are agreed by every side; the conflict is shown for context.[/]"
        console.print(
            Panel(
                f"{sides}\n{escape(k.resolution)}",
                title=f"[bold red]⚠ {kid}[/] {escape(k.title)}",
                title_align="left",
                border_style="red",
            )
        )
    claims = _claims_about(atlas, [*about, *mentioning])
    if claims:
        from rich.text import Text

        t = Text("Seed claims about it: ")
        for i, c in enumerate(claims):
            style, mark = STATUS_STYLE[c.verdict.value]
            t.append(("" if i == 0 else ", ") + f"{c.id} {mark}", style=style)
        console.print(t)
    console.print(
        "[dim]Status: ✔ consistent  ✘ contradicted  ? disputed  ~ opinion  ⚠ sources disagree (see `iliopsoas atlas conflicts`); agreed by all sides: shared ground of a conflict[/]"
    )


# ----------------------------------------------------------------------------- search


@app.command("search")
def search(
    text: str = typer.Argument(..., help="Words to look for in names, synonyms, Latin names and summaries."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, max=200, help="At most this many results."),
    as_json: bool = JSON_OPT,
) -> None:
    """Find entities by name, synonym or description (typo tolerant)."""
    atlas = _atlas()
    hits = atlas.search(text, limit=limit)
    if as_json:
        print_json([{"id": e.id, "name": e.name, "kind": e.kind.value, "score": s} for e, s in hits])
        return
    if not hits:
        console.print(f"No entity matches {escape(repr(text))}.")
        return
    from rich.table import Table

    table = Table(title=f"Entities matching {escape(repr(text))}")
    table.add_column("score", justify="right")
    table.add_column("id", style="cyan")
    table.add_column("name", style="bold")
    table.add_column("kind")
    for e, s in hits:
        table.add_row(f"{s:.0f}", e.id, escape(e.name), e.kind.value)
    console.print(table)


# ----------------------------------------------------------------------------- claims


def _parse_verdict(text: str) -> str:
    from iliopsoas.knowledge.schema import Verdict

    key = text.strip().lower()
    key = VERDICT_ALIASES.get(key, key)
    choices = [v.value for v in Verdict]
    matches = [c for c in choices if c.startswith(key)] if key else []
    if len(matches) == 1:
        return matches[0]
    fail(
        f"--verdict: unknown verdict {text!r}; expected one of {', '.join(choices)} (or disputed/evidence-weak, opinion/marketing)",
        1,
    )


def _parse_article(atlas: Atlas, text: str) -> str:
    digits = text.strip().lower().removeprefix("seed-").removeprefix("seed")
    known = sorted(
        {c.article for c in atlas.claims.values()} | {s[5:] for s in atlas.sources if s.startswith("seed-")}
    )
    if digits.isdigit() and f"{int(digits):03d}" in known:
        return f"{int(digits):03d}"
    fail(f"--article: unknown article {text!r}; expected one of {', '.join(known)}", 1)


def _claim_json(c: Claim, population: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    return {
        "id": c.id,
        "article": c.article,
        "text": c.text,
        "verdict": c.verdict.value,
        "statements": list(c.statements),
        "model_verdict": c.model_verdict.model_dump(mode="json") if c.model_verdict else None,
        "population": [p.text for p in (population or {}).get(c.id, [])],
    }


def _population_lines() -> dict[str, list[Any]]:
    """What stored population runs say about the claims (empty when there are none)."""
    from iliopsoas.population.claims import population_lines

    return population_lines()


@app.command("claims")
def claims(
    verdict: str | None = typer.Option(
        None,
        "--verdict",
        "-v",
        help="consistent | contradicted | disputed (evidence-weak) | opinion (marketing).",
    ),
    article: str | None = typer.Option(None, "--article", "-a", help="Seed article: 000, 001, 002 or 003."),
    as_json: bool = JSON_OPT,
) -> None:
    """List the claims of the four seed articles with our verdict on each."""
    atlas = _atlas()
    v = _parse_verdict(verdict) if verdict is not None else None
    a = _parse_article(atlas, article) if article is not None else None
    found = atlas.claims_for(verdict=v, article=a)
    population = _population_lines()
    if as_json:
        print_json([_claim_json(c, population) for c in found])
        return
    from rich.table import Table

    title = f"{len(found)} claims" + (f", verdict {v}" if v else "") + (f", article {a}" if a else "")
    table = Table(title=title, show_lines=False, expand=True)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("claim (our paraphrase)", ratio=6)
    table.add_column("verdict", ratio=2)
    table.add_column("model", ratio=2)
    for c in found:
        mv = c.model_verdict
        table.add_row(c.id, escape(c.text), _status_text(c.verdict.value), mv.verdict.value if mv else "")
    console.print(table)
    for c in found:
        for line in population.get(c.id, []):
            console.print(f"{c.id} {escape(line.text)}", highlight=False)


# ----------------------------------------------------------------------------- conflicts


@app.command("conflicts")
def conflicts(as_json: bool = JSON_OPT) -> None:
    """Show where sources disagree: each conflict's sides with their statements, and our resolution."""
    from iliopsoas.knowledge.store import fact_to_dict

    atlas = _atlas()
    groups = sorted(atlas.conflicts.values(), key=lambda k: int(k.id[1:]))
    if as_json:
        print_json(
            [
                {
                    "id": k.id,
                    "title": k.title,
                    "resolution": k.resolution,
                    "claims": list(k.claims),
                    "positions": _positions_json(k),
                    "agreed": list(k.agreed),
                    "statements": [
                        fact_to_dict(atlas.statements[s], with_subject=True) for s in k.statements
                    ],
                }
                for k in groups
            ]
        )
        return
    from rich.console import Group
    from rich.panel import Panel

    if not groups:
        console.print("No conflicts recorded.")
        return
    for k in groups:
        parts: list[Any] = []
        for pos in k.positions:
            facts = [atlas.statements[s] for s in pos.statements]
            parts.append(_statements_table(atlas, facts, _position_title(k, pos), subject_column=True))
        if k.agreed:
            facts = [atlas.statements[s] for s in k.agreed]
            parts.append(_statements_table(atlas, facts, "Agreed by every side", subject_column=True))
        parts.append(f"[bold]Resolution:[/] {escape(k.resolution)}")
        if k.claims:
            parts.append(f"[dim]claims: {', '.join(k.claims)}[/]")
        console.print(
            Panel(
                Group(*parts), title=f"[bold red]⚠ {k.id}[/] {escape(k.title)}", title_align="left", border_style="red"
            )
        )


def _positions_json(k: Conflict) -> list[dict[str, Any]]:
    """The sides of conflict ``k`` for ``--json``: id, label, statement ids and the sides it opposes."""
    return [
        {"id": p.id, "label": p.label, "statements": list(p.statements), "opposes": [o.id for o in k.opposed(p)]}
        for p in k.positions
    ]


def _position_title(k: Conflict, pos: Position) -> str:
    """``Side range-40-60: present in …`` (plus ``against …`` when the side opposes only some others)."""
    against = k.opposed(pos)
    title = f"Side {pos.id}: {escape(pos.label)}"
    if len(against) < len(k.positions) - 1:
        title += f" [dim](against {', '.join(o.id for o in against)})[/]"
    return title


# ----------------------------------------------------------------------------- sparql
MAX_QUERY_CHARS = 100_000


@app.command("sparql")
def sparql(
    query: str = typer.Argument(..., help="A SPARQL 1.1 query, '@file.rq' to read a file, or '-' for stdin."),
    as_json: bool = JSON_OPT,
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, max=600.0, help="Stop the query after this many seconds."),
    max_rows: int = typer.Option(10_000, "--max-rows", min=1, max=1_000_000, help="Return at most this many results."),
) -> None:
    """Run a SPARQL query over the atlas graph (prefixes ilo:, ent:, stmt:, src:, … are predeclared)."""
    from iliopsoas.knowledge.bounded_sparql import SparqlTimeout, run_bounded
    from iliopsoas.knowledge.rdf import SparqlError, SparqlRefused, atlas_store, term_text

    if query == "-":
        query = sys.stdin.read(MAX_QUERY_CHARS + 1)
    elif query.startswith("@"):
        path = input_path(Path(query[1:]), "QUERY", max_bytes=MAX_QUERY_CHARS)
        try:
            query = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"QUERY: cannot read {query[1:]!r}: {getattr(exc, 'strerror', None) or exc}", 1)
    if len(query) > MAX_QUERY_CHARS:
        fail(f"QUERY: {len(query)} characters; expected a query of at most {MAX_QUERY_CHARS}", 2)
    atlas = _atlas()
    try:
        res = run_bounded(atlas_store(atlas), query, timeout_s=timeout, max_rows=max_rows)
    except SparqlTimeout as exc:
        fail(f"QUERY: {exc}", 1)
    except SparqlRefused as exc:
        fail(f"QUERY: refused SPARQL query: {exc}", 2)
    except SparqlError as exc:
        fail(f"malformed SPARQL query: {exc}", 2)
    if res.truncated:
        err_console.print(f"[yellow]note:[/] only the first {max_rows} results are shown (--max-rows)",
                          highlight=False)
    if as_json:
        if res.kind == "ask":
            print_json({"kind": "ask", "boolean": res.boolean})
        elif res.kind == "graph":
            print_json(
                {
                    "kind": "graph",
                    "triples": [
                        [term_text(t.subject), term_text(t.predicate), term_text(t.object)]
                        for t in res.triples
                    ],
                }
            )
        else:
            print_json(
                {
                    "kind": "select",
                    "variables": list(res.variables),
                    "rows": [{v: term_text(row[v]) for v in res.variables} for row in res.rows],
                }
            )
        return
    from rich.table import Table

    if res.kind == "ask":
        console.print("[green]yes[/]" if res.boolean else "[red]no[/]")
        return
    table = Table()
    if res.kind == "graph":
        for col in ("subject", "predicate", "object"):
            table.add_column(col)
        for t in res.triples:
            table.add_row(
                *(escape(term_text(x, compact=True) or "") for x in (t.subject, t.predicate, t.object))
            )
        n = len(res.triples)
    else:
        for v in res.variables:
            table.add_column(v)
        for row in res.rows:
            table.add_row(*(escape(term_text(row[v], compact=True) or "") for v in res.variables))
        n = len(res.rows)
    table.caption = f"{n} result(s)"
    console.print(table)


# ----------------------------------------------------------------------------- export


@app.command("export")
def export(
    fmt: str = typer.Option(..., "--format", "-f", help="turtle or jsonld."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
    as_json: bool = typer.Option(
        False, "--json", help="With --out: print a JSON summary of what was written."
    ),
) -> None:
    """Export the atlas graph as Turtle or JSON-LD (vocabulary in docs/cli.md)."""
    from iliopsoas.knowledge.rdf import FORMATS, atlas_store
    from iliopsoas.knowledge.rdf import export as dump

    key = fmt.strip().lower().replace("-", "").replace("_", "")
    key = {"ttl": "turtle", "json": "jsonld"}.get(key, key)
    if key not in FORMATS:
        fail(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}", 2)
    if as_json and out is None:
        fail("--json needs --out (without it the export itself is printed)", 2)
    if out is not None:
        output_path(out, "--out")
    atlas = _atlas()
    data = dump(atlas, key)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        fail(f"--out: cannot write {str(out)!r}: {exc.strerror or exc}", 1)
    summary = {"format": key, "path": str(out), "triples": len(atlas_store(atlas)), "bytes": len(data)}
    if as_json:
        print_json(summary)
    else:
        console.print(f"wrote {summary['triples']} triples ({len(data)} bytes, {key}) to {escape(str(out))}")


# ----------------------------------------------------------------------------- check


@app.command("check")
def check(as_json: bool = JSON_OPT) -> None:
    """Validate the data files; print counts and warnings (exit 3 with one line per problem)."""
    atlas = _atlas()
    counts = atlas.counts()
    if as_json:
        print_json({"ok": True, "counts": counts, "warnings": list(atlas.warnings)})
        return
    console.print(f"[green]atlas OK[/] ({escape(str(atlas.data_dir))})", soft_wrap=True)
    for k, v in counts.items():
        console.print(f"  {k}: {escape(str(v))}", soft_wrap=True)
    for w in atlas.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}", soft_wrap=True)
