"""Reading an ``.osim`` file safely: bounded size, depth and element count, checked numbers.

A model file is untrusted input (users pass any path to ``iliopsoas model …``, ``serve --osim``
or :func:`~iliopsoas.mechanics.osim.load_osim`). This module reads it so that no file can
exhaust memory, block, recurse without bound or smuggle a non-finite number into the model:

* only regular files are opened (a FIFO, a device such as ``/dev/zero`` or a directory is
  refused before anything is read; the file is opened non-blocking so a FIFO cannot block);
* at most :attr:`OsimLimits.max_file_bytes` are read;
* the XML is parsed by defusedxml (entity declarations and external entities refused) in
  chunks, counting elements and nesting depth as they start, so a file past a limit stops the
  parse at once;
* every number goes through :func:`number`/:func:`floats`, which refuse NaN, infinities and
  values outside the range that the quantity can sensibly take (:data:`BOUNDS`).

Errors are :class:`OsimError`: one line naming the file, the line, the element (with its
``name``) and what was expected.
"""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

import numpy as np
from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden


class OsimError(ValueError):
    """A model file that cannot be read; the message names the file, line, element and name."""


@dataclass(frozen=True)
class OsimLimits:
    """Upper bounds on what one model file may hold (documented in ``docs/mechanics.md``).

    The largest public OpenSim models this engine was tested on (a 520-muscle full body with a
    thoracolumbar spine) stay below a tenth of every bound; a file past one is refused with a
    message naming the bound, before it can take minutes or gigabytes.
    """

    max_file_bytes: int = 32 * 1024 * 1024
    max_elements: int = 1_000_000
    max_depth: int = 64
    max_bodies: int = 1_000
    max_joints: int = 1_000
    max_coordinates: int = 2_000
    max_frames: int = 10_000
    max_wrap_objects: int = 2_000
    max_path_actuators: int = 4_000
    max_points_per_path: int = 500
    max_wraps_per_path: int = 50
    max_function_points: int = 10_000


LIMITS = OsimLimits()

# Sane magnitude of each kind of number (SI units). A value outside is refused, naming the kind.
BOUNDS: dict[str, tuple[float, float, str]] = {
    "length": (-1e4, 1e4, "m"),  # locations, translations, radii, dimensions (10 km)
    "positive_length": (0.0, 1e4, "m"),
    "angle": (-1e4, 1e4, "rad"),  # orientations
    "coordinate": (-1e7, 1e7, "rad or m"),  # ranges and defaults (1e6 is written for "free")
    "mass": (0.0, 1e7, "kg"),
    "inertia": (-1e7, 1e7, "kg m^2"),
    "gravity": (-1e3, 1e3, "m/s^2"),
    "function": (-1e9, 1e9, ""),  # coefficients, knots and values of scalar functions
    "scale": (-1e6, 1e6, ""),
    "index": (-1e6, 1e6, ""),
    "stiffness": (-1e12, 1e12, "SI"),  # ligament and spring constants
}


@dataclass
class Doc:
    """Where each element came from: the file, each element's start line and, for the objects of
    the model's sets, their bytes in the file."""

    path: str
    lines: dict[int, int]
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    data: bytes = b""
    utf8: bool = True

    def source(self, el: ET.Element) -> str:
        """The XML of ``el`` as it stands in the file (serialized again when not recorded)."""
        span = self.spans.get(id(el))
        if span is not None and self.utf8:
            begin, end = span
            close = self.data.find(b">", end)
            if close >= 0 and self.data[end: end + 2] == b"</":
                try:
                    return self.data[begin: close + 1].decode("utf-8")
                except UnicodeDecodeError:
                    pass
        return ET.tostring(el, encoding="unicode")

    @staticmethod
    def label(el: ET.Element) -> str:
        name = el.get("name")
        return f"<{el.tag}" + (f' name="{name}"' if name is not None else "") + ">"

    def where(self, el: ET.Element, owner: ET.Element | None = None) -> str:
        """``file:line: <tag name="…">`` (``… of <owner …>`` for a value inside a named object)."""
        line = self.lines.get(id(el))
        of = f" of {self.label(owner)}" if owner is not None and owner is not el else ""
        return f"{self.path}:{line if line is not None else '?'}: {self.label(el)}{of}"

    def error(self, el: ET.Element, msg: str, owner: ET.Element | None = None) -> OsimError:
        return OsimError(f"{self.where(el, owner)}: {msg}")


class _LimitExceeded(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Builder:
    """expat handlers that build an ElementTree (C TreeBuilder), recording each element's start
    line and, for the elements at depth 4 and 5 (the objects of a model's sets), their byte span,
    and refusing entity declarations, external entities, too deep nesting and too many elements.
    """

    def __init__(self, parser: Any, limits: OsimLimits) -> None:
        self.parser = parser
        self.tb = ET.TreeBuilder()
        self.lines: dict[int, int] = {}
        self.spans: dict[int, tuple[int, int]] = {}
        self._keep: list[ET.Element] = []  # element ids stay unique while the maps are in use
        self._open: list[tuple[ET.Element, int]] = []
        self.max_depth = limits.max_depth
        self.max_elements = limits.max_elements
        self.depth = 0
        self.count = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        self.count += 1
        line = self.parser.CurrentLineNumber
        if self.depth > self.max_depth:
            raise _LimitExceeded(f"{line}: <{tag}>: nested {self.depth} elements deep (at most {self.max_depth})")
        if self.count > self.max_elements:
            raise _LimitExceeded(f"{line}: <{tag}>: more than {self.max_elements:,} XML elements "
                                 "(the limit for one model file)")
        el = self.tb.start(tag, attrs)
        self.lines[id(el)] = line
        self._keep.append(el)
        if 4 <= self.depth <= 5:
            self._open.append((el, self.parser.CurrentByteIndex))

    def end(self, tag: str) -> None:
        el = self.tb.end(tag)
        if 4 <= self.depth <= 5 and self._open:
            opened, begin = self._open.pop()
            if opened is el:
                self.spans[id(el)] = (begin, self.parser.CurrentByteIndex)
        self.depth -= 1

    def data(self, text: str) -> None:
        self.tb.data(text)

    @staticmethod
    def entity_decl(name: str, *args: Any) -> None:
        raise EntitiesForbidden(name, None, None, None, None, None)

    @staticmethod
    def external_ref(context: Any, base: Any, sysid: Any, pubid: Any) -> None:
        raise ExternalReferenceForbidden(context, base, sysid, pubid)


def read_bounded(path: str | Path, limits: OsimLimits = LIMITS) -> bytes:
    """The bytes of the regular file ``path``, refusing anything else or anything too large."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise OsimError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise OsimError(f"{p}: is a directory, not an .osim file") from None
    except OSError as exc:
        raise OsimError(f"{p}: cannot read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise OsimError(f"{p}: is a directory, not an .osim file")
        if not stat.S_ISREG(st.st_mode):
            raise OsimError(f"{p}: not a regular file (a device, pipe or socket); expected an .osim file")
        if st.st_size > limits.max_file_bytes:
            raise OsimError(f"{p}: {st.st_size:,} bytes; model files may hold at most "
                            f"{limits.max_file_bytes:,} bytes")
        chunks: list[bytes] = []
        total = 0
        while True:
            block = os.read(fd, 1 << 20)
            if not block:
                break
            total += len(block)
            if total > limits.max_file_bytes:  # the file grew while being read
                raise OsimError(f"{p}: more than {limits.max_file_bytes:,} bytes; model files may hold at most "
                                f"{limits.max_file_bytes:,} bytes")
            chunks.append(block)
        return b"".join(chunks)
    except OSError as exc:
        raise OsimError(f"{p}: cannot read ({exc.strerror})") from None
    finally:
        os.close(fd)


def parse_xml(path: str | Path, limits: OsimLimits = LIMITS) -> tuple[ET.Element, Doc]:
    """Parse ``path`` safely within ``limits``; returns the root element and its line map.

    Entity declarations and external entity references are refused (as defusedxml does: no
    entity expansion bombs, no file or network access); a DTD without entities is allowed.
    """
    p = Path(path)
    data = read_bounded(p, limits)
    parser = expat.ParserCreate()
    b = _Builder(parser, limits)
    parser.buffer_text = True
    parser.StartElementHandler = b.start
    parser.EndElementHandler = b.end
    parser.CharacterDataHandler = b.data
    parser.EntityDeclHandler = b.entity_decl
    parser.UnparsedEntityDeclHandler = b.entity_decl
    parser.ExternalEntityRefHandler = b.external_ref  # type: ignore[assignment]
    try:
        step = 1 << 20
        for i in range(0, len(data), step):
            parser.Parse(data[i: i + step], False)
        parser.Parse(b"", True)
        root = b.tb.close()
    except _LimitExceeded as exc:
        raise OsimError(f"{p}:{exc.message}") from None
    except DefusedXmlException as exc:
        raise OsimError(f"{p}: refused unsafe XML ({type(exc).__name__}: {exc})") from None
    except expat.ExpatError as exc:
        raise OsimError(f"{p}:{exc.lineno}: malformed XML ({expat.errors.messages[exc.code]}, column {exc.offset + 1})") from None
    except UnicodeError as exc:
        raise OsimError(f"{p}: malformed XML (cannot decode: {exc})") from None
    return root, Doc(str(p), b.lines, b.spans, data, _declared_utf8(data))


def _declared_utf8(data: bytes) -> bool:
    """True when the document is UTF-8 (declared so, or with no encoding declared and no BOM of another)."""
    head = data[:200].lower()
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:4]:
        return False
    if b"encoding=" not in head.split(b"?>", 1)[0]:
        return True
    decl = head.split(b"?>", 1)[0]
    return b"utf-8" in decl or b"utf8" in decl


# ------------------------------------------------------------------------------------ numbers
def text(el: ET.Element | None, default: str = "") -> str:
    if el is None or el.text is None:
        return default
    return el.text.strip()


def _bound_message(kind: str) -> str:
    lo, hi, unit = BOUNDS[kind]
    rng = f"{lo:g} .. {hi:g}" if lo != -hi else f"within ±{hi:g}"
    return f"{rng}{' ' + unit if unit else ''}"


def check_value(doc: Doc, el: ET.Element, v: float, kind: str, raw: str = "",
                owner: ET.Element | None = None) -> float:
    """``v`` if finite and within the bounds of ``kind``; otherwise an error naming ``el``."""
    lo, hi, _ = BOUNDS[kind]
    if not (lo <= v <= hi):  # False for NaN; the bounds are finite
        got = raw if raw else repr(v)
        raise doc.error(el, f"expected a finite number {_bound_message(kind)}, got {got!r}", owner)
    return v


def floats(doc: Doc, el: ET.Element | None, n: int | None = None, what: str = "", kind: str = "function",
           owner: ET.Element | None = None, max_count: int | None = None) -> np.ndarray:
    """The numbers in ``el``'s text: exactly ``n`` of them when given, each finite and within the
    bounds of ``kind``. A missing element is an error naming ``owner`` (or the file)."""
    if el is None:
        if owner is not None:
            raise doc.error(owner, f"missing <{what}>")
        raise OsimError(f"{doc.path}: missing <{what}>")
    raw = text(el)
    parts = raw.split()
    limit = max_count if max_count is not None else LIMITS.max_function_points
    if len(parts) > limit:
        raise doc.error(el, f"expected at most {limit:,} numbers, got {len(parts):,}", owner)
    if n is not None and len(parts) != n:
        try:  # a malformed entry is reported first, as the count would be
            [float(v) for v in parts]
        except ValueError:
            pass
        else:
            raise doc.error(el, f"expected {n} numbers, got {len(parts)}", owner)
    lo, hi, _ = BOUNDS[kind]
    vals = []
    for v in parts:
        try:
            x = float(v)
        except ValueError:
            shown = raw if len(raw) <= 80 else raw[:77] + "..."
            raise doc.error(el, f"expected numbers, got {shown!r}", owner) from None
        if not (lo <= x <= hi):  # False for NaN
            raise doc.error(el, f"expected {'' if n is None else str(n) + ' '}finite numbers {_bound_message(kind)}, "
                                f"got {v!r}", owner)
        vals.append(x)
    return np.array(vals, dtype=float)


def child_float(doc: Doc, el: ET.Element, tag: str, default: float | None = None, kind: str = "function") -> float:
    """The number in ``el``'s child ``<tag>`` (``default`` when absent), checked as ``kind``."""
    c = el.find(tag)
    if c is None or not text(c):
        if default is None:
            raise doc.error(el, f"missing <{tag}>")
        return default
    raw = text(c)
    try:
        v = float(raw)
    except ValueError:
        shown = raw if len(raw) <= 80 else raw[:77] + "..."
        raise doc.error(c, f"expected a number, got {shown!r}", el) from None
    return check_value(doc, c, v, kind, raw, el)
