"""``iliopsoas data``: where your health data lives, how to copy it out or in, rescue it or remove it.

* ``data path``    the care database file and every file beside it that holds the same data
  (journal, upgrade backups, damaged and rescued copies);
* ``data export``  the whole log to a file (formats in :data:`EXPORTERS`: the project's JSON and CSV,
  a FHIR R4 Bundle), written to a temporary file first and renamed into place, so a full disk never
  leaves half an export;
* ``data import``  merge such a file (JSON, CSV or FHIR, recognised by its content) into the log:
  validated whole, then written in one transaction, so a bad file adds nothing;
* ``data rescue``  copy every readable record of a damaged database into a fresh one (the damaged
  file is kept, renamed);
* ``data delete``  remove the database and those files, after asking (``--yes`` to skip the question).

The log here is every table of :data:`iliopsoas.care.log.USER_TABLES`: sessions and their sets,
safety screens, measurements, scored questionnaires and atlas quiz cards. ``session export`` and
``session import`` are aliases of ``data export`` and ``data import`` (the same functions).

A new export format is one entry in :data:`EXPORTERS`: a function ``(CareLog, Path) -> records``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import typer

from iliopsoas.commands._common import console, fail, input_path, output_path, print_json

app = typer.Typer(help="Where your health data lives: path, export, import, rescue, delete.", no_args_is_help=True)

DbOption = typer.Option(None, "--db", help="Care database file (default: $ILIOPSOAS_DB or the user data dir).")
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")
MAX_IMPORT_BYTES = 200 * 2**20


def _exporter(fmt: str, log: Any, path: Path) -> int:
    from iliopsoas.care.transfer import export_file

    return export_file(log, path, fmt)


#: format name -> writer of the whole log to a path, returning how many records (json), rows (csv)
#: or FHIR resources (fhir) it wrote
EXPORTERS: dict[str, Callable[[Any, Path], int]] = {f: partial(_exporter, f) for f in ("json", "csv", "fhir")}


def related_files(db: Path) -> list[Path]:
    """The database and every file beside it holding the same data (that exists)."""
    from iliopsoas.care.rescue import journal_files

    out = [db] if db.exists() else []
    out += journal_files(db)
    if db.parent.is_dir():
        for p in sorted(db.parent.iterdir()):
            rest = p.name[len(db.name):] if p.name.startswith(db.name) else ""
            if rest.startswith((".v", ".damaged-", ".rescued-")) and p.is_file():
                out.append(p)
                out += journal_files(p)
    return list(dict.fromkeys(out))


def _where(db: Path | None) -> tuple[Path, str]:
    from iliopsoas.care.log import default_db_path

    chosen = default_db_path(db)
    why = "--db" if db else ("$ILIOPSOAS_DB" if os.environ.get("ILIOPSOAS_DB") else "the user data folder")
    return chosen, why


@app.command("path")
def data_path(db: Path = DbOption, json_: bool = JsonOption) -> None:
    """Print where the care log is kept, and every file that holds a copy of it."""
    path, why = _where(db)
    files = related_files(path)
    if json_:
        print_json({"database": str(path), "chosen_by": why, "exists": path.exists(),
                    "files": [{"path": str(f), "bytes": f.stat().st_size} for f in files]})
        return
    console.print(f"Care database: {path}  (chosen by {why}; {'exists' if path.exists() else 'not created yet'})",
                  highlight=False, markup=False)
    for f in files[1:] if files and files[0] == path else files:
        console.print(f"  also: {f}  ({f.stat().st_size:,} bytes)", highlight=False, markup=False)


@app.command("export")
def data_export(
    file: Path = typer.Argument(..., help="Destination file (.json, .csv; fhir needs --format fhir)."),
    format_: str = typer.Option(None, "--format", help=f"{', '.join(EXPORTERS)} (default: from the file suffix)."),
    db: Path = DbOption,
    json_: bool = JsonOption,
) -> None:
    """Copy the whole care log (sessions, sets, screens, measurements, questionnaires, quiz cards)
    into one file: the project's JSON or CSV, or a FHIR R4 Bundle for a clinician (no quiz cards)."""
    from iliopsoas.care.fhir import FhirError
    from iliopsoas.care.log import CareLog, LogError

    fmt = (format_ or file.suffix.lstrip(".")).lower()
    if fmt not in EXPORTERS:
        fail(f"--format must be one of {', '.join(EXPORTERS)} (or use a .json/.csv file name), got "
             f"{fmt or 'nothing'!r}", 2)
    output_path(file, "FILE")
    path, _ = _where(db)
    if not path.exists():
        fail(f"there is no care database at {path} yet; nothing to export")
    try:
        with CareLog(path) as log:
            count = write_atomically(file, lambda tmp: EXPORTERS[fmt](log, tmp))
    except (LogError, FhirError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"FILE: cannot write {str(file)!r}: {exc.strerror or exc} (nothing was written)")
    if json_:
        print_json({"file": str(file), "format": fmt, "records": count})
    else:
        what = {"csv": "rows", "fhir": "FHIR resources"}.get(fmt, "records")
        console.print(f"Exported {count} {what} to {file} ({fmt}).", highlight=False, markup=False)


@app.command("import")
def data_import(
    file: Path = typer.Argument(..., help="A file written by `data export` (JSON, CSV or FHIR Bundle)."),
    db: Path = DbOption,
    json_: bool = JsonOption,
) -> None:
    """Merge an export (the project's JSON or CSV, or a FHIR Bundle written by `data export --format
    fhir`) into the log: checked whole first, then written in one transaction, so a bad file adds
    nothing; records already present are skipped."""
    from iliopsoas.care.log import CareLog, LogError
    from iliopsoas.care.transfer import ImportFormatError, read_import

    input_path(file, "FILE", max_bytes=MAX_IMPORT_BYTES)
    try:
        fmt, doc = read_import(file)
    except ImportFormatError as exc:
        fail(str(exc), 2)
    except LogError as exc:
        fail(str(exc))
    try:
        with CareLog(_where(db)[0]) as log:
            added = log.import_json(doc)
    except LogError as exc:
        fail(str(exc))
    if json_:
        print_json({"file": str(file), "format": fmt, "added": added})
    else:
        words = {"steps": "sets", "measures": "measurements", "outcomes": "questionnaires", "study_cards": "quiz cards"}
        console.print(f"Imported from {file} ({fmt}): " + ", ".join(f"{v} {words.get(k, k)}" for k, v in added.items())
                      + " (new records; those already in the log were skipped).", highlight=False, markup=False)


def write_atomically(dest: Path, write: Callable[[Path], int]) -> int:
    """Run ``write`` on a temporary file beside ``dest``, make it durable, then rename it to ``dest``:
    ``dest`` is either the old file or the whole new one, never a part."""
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        count = write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return count


@app.command("rescue")
def data_rescue(
    db: Path = DbOption,
    to: Path = typer.Option(None, "--to", help="Write the rescued database here and leave the damaged one in place."),
    json_: bool = JsonOption,
) -> None:
    """Copy every readable record of a damaged care database into a fresh one (the damaged file is kept)."""
    from iliopsoas.care.log import LogError
    from iliopsoas.care.rescue import rescue, walk

    path, _ = _where(db)
    if to is not None:
        output_path(to, "--to")
        if to.exists():
            fail(f"--to: {str(to)!r} exists already; expected a new file name")
    if not path.is_file():
        fail(f"there is no care database at {path}; nothing to rescue")
    try:
        report = rescue(path, to)
    except LogError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"rescue: {exc.filename or path}: {exc.strerror or exc} (the damaged file is untouched)")
    if json_:
        print_json(report.to_json())
        return
    for line in walk(report):
        console.print(line, highlight=False, markup=False)


@app.command("delete")
def data_delete(
    db: Path = DbOption,
    yes: bool = typer.Option(False, "--yes", help="Do not ask; delete at once."),
    json_: bool = JsonOption,
) -> None:
    """Delete the care log and every copy beside it (asks first; this cannot be undone)."""
    path, _ = _where(db)
    files = related_files(path)
    if not files:
        fail(f"there is no care database at {path}; nothing to delete")
    if not yes:
        if not sys.stdin.isatty():
            fail("data delete asks before deleting: run it in a terminal or add --yes", 2)
        console.print("These files will be deleted:", highlight=False)
        for f in files:
            console.print(f"  {f}", highlight=False, markup=False)
        from rich.prompt import Confirm

        if not Confirm.ask("Delete them? This cannot be undone", console=console, default=False):
            fail("nothing was deleted", 1)
    removed: list[str] = []
    for f in files:
        try:
            f.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            fail(f"cannot delete {f}: {exc.strerror or exc} ({len(removed)} of {len(files)} files were deleted)")
        removed.append(str(f))
    if json_:
        print_json({"deleted": removed})
    else:
        console.print(f"Deleted {len(removed)} file(s): your care log is gone.", highlight=False)
