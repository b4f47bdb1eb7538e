"""What every request passes before it reaches a route: host names, body size, heavy-work admission,
and the security headers on every answer. One pure ASGI middleware, :class:`Guards`.

* **Host header** (DNS rebinding): a page on ``evil.example`` whose name is made to resolve to
  127.0.0.1 can talk to this app from the victim's browser, with the browser's idea that it is the
  same origin. Only the names this app is bound to are answered: 127.0.0.1, localhost, [::1], the
  configured ``--host``, and for a wildcard bind (0.0.0.0, ::) the machine's names and any address
  literal (a rebinding attack needs a *name*). Anything else gets 400.
* **Body size**: a request body larger than :data:`DEFAULT_BODY_LIMIT` (or the route's entry in
  :data:`BODY_LIMITS`) gets 413 before it is read into memory.
* **Heavy work** (posture solves, model sweeps, SPARQL, model uploads): at most a few requests of
  each kind are admitted at once (:data:`HEAVY`); beyond that the answer is 503 with
  ``Retry-After`` at once, from the event loop, so the solver never ties up the worker threads that
  ``/api/health`` and the care log need.
* **Headers**: the pages cannot be framed (``X-Frame-Options: DENY`` and CSP ``frame-ancestors
  'none'``), scripts come from this app only (no inline scripts or handlers), no MIME sniffing,
  no referrer.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD = frozenset({"0.0.0.0", "::", ""})
DEFAULT_BODY_LIMIT = 1 * 2**20
#: larger bodies where a route takes a file's text (an .osim model of up to 10 MB, JSON-escaped)
BODY_LIMITS: dict[str, int] = {"/api/model/osim": 16 * 2**20}

#: kind of heavy work -> (paths, how many requests of that kind may be in the app at once)
HEAVY: dict[str, tuple[tuple[str, ...], int]] = {
    "posture solve": (("/api/posture/simulate",), 3),
    "model computation": (("/api/model/pose", "/api/model/moment-arms", "/api/model/osim"), 4),
    "SPARQL query": (("/api/atlas/sparql",), 2),
}
RETRY_AFTER_S = 2

# Scripts only from this app and no inline scripts or inline event handlers (the usual ways injected
# markup would run). 'unsafe-eval' stays allowed: browser drivers (Playwright's wait_for_function, used
# by every browser test of this project) evaluate their predicates as strings inside the page, and
# plotly's typesetting loader calls eval; our own scripts never evaluate text. Styles may be inline
# (plotly writes its own <style>).
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)


def allowed_hosts(host: str | None) -> tuple[frozenset[str], bool]:
    """The host names answered for a server bound to ``host``, and whether address literals are too."""
    names = set(LOOPBACK_NAMES)
    wildcard = host is not None and host.strip("[]") in WILDCARD
    if host and not wildcard:
        names.add(host.strip("[]").lower().rstrip("."))
    if wildcard:
        for name in (socket.gethostname(), socket.getfqdn()):
            if name:
                names.add(name.lower().rstrip("."))
    return frozenset(names), wildcard


def host_name(header: str) -> str:
    """``Host`` header -> the name alone: ``[::1]:8000`` -> ``::1``, ``Localhost.:80`` -> ``localhost``."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1 : h.find("]")] if "]" in h else h
    if h.count(":") == 1:
        h = h.rsplit(":", 1)[0]
    return h.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass
class HeavyWork:
    """How many requests of each heavy kind are in the app now (event-loop only: no lock needed)."""

    kinds: dict[str, tuple[tuple[str, ...], int]] = field(default_factory=lambda: dict(HEAVY))
    active: dict[str, int] = field(default_factory=dict)

    def kind_of(self, path: str) -> str | None:
        for kind, (paths, _) in self.kinds.items():
            if path in paths:
                return kind
        return None

    def admit(self, kind: str) -> bool:
        if self.active.get(kind, 0) >= self.kinds[kind][1]:
            return False
        self.active[kind] = self.active.get(kind, 0) + 1
        return True

    def release(self, kind: str) -> None:
        self.active[kind] = max(0, self.active.get(kind, 0) - 1)


class Guards:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp, *, host: str | None = None, heavy: HeavyWork | None = None) -> None:
        self.app = app
        self.names, self.any_address = allowed_hosts(host)
        self.heavy = heavy or HeavyWork()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = self._host_problem(scope)
        if problem is not None:
            await _answer(send, 400, problem) if scope["type"] == "http" else await send({"type": "websocket.close"})
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        receive_body = await self._read_body(scope, receive, send)
        if receive_body is None:
            return
        kind = self.heavy.kind_of(scope.get("path", ""))
        if kind is None:
            await self.app(scope, receive_body, send)
            return
        if not self.heavy.admit(kind):
            limit = self.heavy.kinds[kind][1]
            await _answer(send, 503, f"busy: {limit} {kind} request(s) are running already; try again in "
                                     f"{RETRY_AFTER_S} s", extra=((b"retry-after", str(RETRY_AFTER_S).encode()),))
            return
        try:
            await self.app(scope, receive_body, send)
        finally:
            self.heavy.release(kind)

    def _host_problem(self, scope: Scope) -> str | None:
        headers = dict(scope.get("headers") or ())
        raw = headers.get(b"host")
        if raw is None:
            return "missing Host header; expected the address of this app (e.g. 127.0.0.1)"
        name = host_name(raw.decode("latin-1"))
        if name in self.names or (self.any_address and _is_address(name)):
            return None
        client = scope.get("client") or ("", 0)
        if name == "testserver" and client[0] == "testclient":  # Starlette's in-process TestClient only
            return None
        shown = name if len(name) <= 80 else name[:60] + "…"
        return (f"Host {shown!r} is not this app; expected one of {', '.join(sorted(self.names))} "
                "(requests through other names are refused: DNS rebinding)")

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """The whole body, read up to the route's limit (None: a 413 was sent)."""
        limit = BODY_LIMITS.get(scope.get("path", ""), DEFAULT_BODY_LIMIT)
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length")
        too_big = f"request body larger than {limit:,} bytes; expected at most {limit:,}"
        if declared is not None:
            try:
                if int(declared) > limit:
                    await _answer(send, 413, too_big)
                    return None
            except ValueError:
                await _answer(send, 400, "malformed Content-Length header; expected a number of bytes")
                return None
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE") and declared is None \
                and b"chunked" not in headers.get(b"transfer-encoding", b""):
            return receive
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _answer(send, 413, too_big)
                return None
            chunks.append(body)
            if not message.get("more_body", False):
                break
        data = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": data, "more_body": False}
            return await receive()

        return replay


def _with_headers(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", ())}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return sender


async def _answer(send: Send, status: int, detail: str, extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail, "message": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": body})
