"""The local web app: a FastAPI application over the atlas, questions, the model and care.

``create_app`` builds a new application (no global state); ``iliopsoas serve`` runs it with
uvicorn. Pages are plain HTML with one small script each; they talk to the JSON API under
``/api`` (schema at ``/openapi.json``, listed at ``/api/docs`` by a page of our own). Nothing is fetched from the
network: plotly.js is served from the plotly wheel installed with the package.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from iliopsoas import __version__

WEB_DIR = Path(__file__).resolve().parent
PAGES = ("atlas", "ask", "model", "posture", "care", "population")


@dataclass
class Settings:
    """What one app instance serves. ``db`` None = the CLI's default care database."""

    db: Path | None = None
    token: str | None = None
    osim: Path | None = None
    geometry: Path | None = None
    atlas_dir: Path | None = None
    figures_dir: Path | None = None
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _view: Any = field(default=None, repr=False)
    _posture_view: Any = field(default=None, repr=False)
    _figures: Any = field(default=None, repr=False)
    _uploaded: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def atlas(self) -> Any:
        from iliopsoas.knowledge import load_atlas

        return load_atlas(self.atlas_dir)

    def view(self) -> Any:
        """The model view, built once (the model takes about a second to build), or the one the user loaded."""
        with self._lock:
            if self._uploaded is not None:
                return self._uploaded
            if self._view is None:
                self._view = _build_view(self)
            return self._view

    def posture_view(self) -> Any:
        """The bundled lumbopelvic model (what the posture library solves), whatever ``--osim`` shows."""
        if self.osim is None:
            with self._lock:
                if self._view is None:
                    self._view = _build_view(self)
                return self._view
        with self._lock:
            if self._posture_view is None:
                self._posture_view = _build_view(Settings(geometry=None))
            return self._posture_view

    def use_model(self, model: Any, filename: str | None) -> None:
        """Show ``model`` (loaded from a file the user picked) on the Model page; None goes back to the start-up model.
        The posture page keeps solving the bundled model either way."""
        from iliopsoas.web.scene import make_view

        with self._lock:
            if model is None:
                self._uploaded = None
            else:
                self._uploaded = make_view(model, None, {})
                self.cache["uploaded-name"] = filename

    def uploaded(self) -> bool:
        """Whether the Model page shows a model the user loaded (POST /api/model/osim)."""
        return self._uploaded is not None

    def exercise_figures(self) -> Any:
        """The exercise figures and length changes (:class:`iliopsoas.care.exercise_figures.FigureStore`),
        kept in ``figures_dir`` (default: the user cache folder); built once."""
        with self._lock:
            if self._figures is None:
                from iliopsoas.care.exercise_figures import FigureStore

                self._figures = FigureStore(self.figures_dir)
            return self._figures

    def warm_up(self) -> None:
        """Build the model and run one small moment-arm sweep, so that the engine's compiled
        kernels are ready before the first page asks (the first call can take several seconds);
        then prepare the posture scenarios (:func:`iliopsoas.web.api_posture.warm_up`)."""
        from iliopsoas.web.scene import moment_arm_sweep, pose_vector

        try:
            view = self.view()
            if view.groups and view.sliders:
                coord = view.model.coordinates[view.sliders[0]].name
                moment_arm_sweep(view, pose_vector(view, {}), next(iter(view.groups)), coord, n_points=2)
        except Exception:  # the page reports model errors itself; a warm-up never takes the app down
            pass
        from iliopsoas.web import api_posture

        api_posture.warm_up(self)  # then every posture scenario, one solve at a time


def _build_view(s: Settings) -> Any:
    from iliopsoas.models.meshes import body_meshes, shipped_meshes
    from iliopsoas.web.scene import make_view

    groups: dict[str, list[str]] | None = None
    if s.osim is not None:
        from iliopsoas.mechanics import load_osim

        model = load_osim(s.osim, strict=False)
    else:
        from iliopsoas import models

        model = models.load("lumbopelvic")
        groups = models.groups("lumbopelvic")
    if s.geometry is not None:
        meshes = body_meshes(model.body_names, s.geometry, osim_path=s.osim)
    elif s.osim is None:  # the bundled model: the simplified Pose2Sim bones shipped in the package
        meshes = shipped_meshes(model.body_names)
    else:
        meshes = {}
    return make_view(model, groups, meshes)


def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the plotly wheel (no CDN)."""
    spec = find_spec("plotly")
    if spec is None or spec.origin is None:
        raise RuntimeError("the plotly package is not installed")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


def swagger_ui_dir() -> Path | None:
    """Swagger UI's files as shipped in the swagger-ui-bundle-v2 wheel (None if it is not installed)."""
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


def _validation_message(errors: list[dict[str, Any]]) -> str:
    parts = []
    for e in errors:
        loc = ".".join(str(x) for x in e.get("loc", ()))
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


# page -> (title, data-page of <body>); the home page has no tab of its own in the navigation
PAGE_TITLES = {"index": ("Home", "home"), "atlas": ("Atlas", "atlas"), "ask": ("Ask", "ask"),
               "model": ("Model", "model"), "posture": ("Posture", "posture"), "care": ("Care", "care"),
               "api": ("API", "api"), "population": ("Population", "population")}


@lru_cache(maxsize=len(PAGE_TITLES))
def _page(name: str) -> str:
    """The full HTML of one page: the shared frame (``templates/_layout.html``: head, navigation)
    around the page's own content (``templates/<name>.html``). Package data: read once per process."""
    templates = resources.files("iliopsoas.web").joinpath("templates")
    title, page = PAGE_TITLES[name]
    content = templates.joinpath(f"{name}.html").read_text(encoding="utf-8")
    layout = templates.joinpath("_layout.html").read_text(encoding="utf-8")
    return layout.replace("{{title}}", title).replace("{{page}}", page).replace("{{content}}", content)


def create_app(
    *,
    db: str | Path | None = None,
    token: str | None = None,
    osim: str | Path | None = None,
    geometry: str | Path | None = None,
    atlas_dir: str | Path | None = None,
    warm: bool = False,
    figures_dir: str | Path | None = None,
    host: str | None = None,
) -> FastAPI:
    """Build the web app.

    Parameters
    ----------
    db : the care SQLite file (default: ``$ILIOPSOAS_DB`` or the user data dir, as the CLI).
    token : when set, every ``/api`` request must carry it (``Authorization: Bearer …`` or ``?token=``).
    osim : an OpenSim model for the Model page (default: the bundled lumbopelvic model).
    geometry : a folder of ``.vtp`` bone meshes (an OpenSim ``Geometry`` folder).
    atlas_dir : another atlas data folder (tests).
    warm : build the model in a background thread right away (``iliopsoas serve`` does).
    figures_dir : where exercise figures are kept once drawn (default: the user cache folder).
    host : the address the server is bound to; requests naming another host are refused
        (:mod:`iliopsoas.web.guards`: loopback names are always answered).
    """
    from iliopsoas.web import (
        api_ask,
        api_atlas,
        api_care,
        api_exercises,
        api_model,
        api_population,
        api_posture,
        api_quiz,
    )

    settings = Settings(
        db=Path(db) if db is not None else None,
        token=token or None,
        osim=Path(osim) if osim is not None else None,
        geometry=Path(geometry) if geometry is not None else None,
        atlas_dir=Path(atlas_dir) if atlas_dir is not None else None,
        figures_dir=Path(figures_dir) if figures_dir is not None else None,
    )
    app = FastAPI(
        title="iliopsoas",
        version=__version__,
        description="A local app over the hip-flexor atlas, questions, the musculoskeletal model and care. "
        "Informs, never diagnoses.",
        docs_url=None,  # FastAPI's Swagger page loads its assets from a CDN; /api/docs is ours, with local assets
        redoc_url=None,
    )
    app.state.settings = settings
    if warm:
        threading.Thread(target=settings.warm_up, name="iliopsoas-warm-up", daemon=True).start()

    @app.middleware("http")
    async def _token_check(request: Request, call_next: Any) -> Response:
        if settings.token and request.url.path.startswith("/api/") and not request.url.path.startswith("/api/docs"):
            given = request.query_params.get("token", "")
            auth = request.headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            if not secrets.compare_digest(given.encode(), settings.token.encode()):
                return JSONResponse(
                    {"detail": "missing or wrong token: send 'Authorization: Bearer TOKEN' or add ?token=TOKEN"},
                    status_code=401, headers={"WWW-Authenticate": "Bearer"},
                )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = jsonable_encoder(exc.errors(), custom_encoder={BaseException: str})
        for e in errors:
            e.pop("ctx", None)
            e.pop("input", None)
        return JSONResponse({"detail": errors, "message": _validation_message(errors)}, status_code=422)

    from iliopsoas.care.log import LogError
    from iliopsoas.care.records import RecordError

    @app.exception_handler(RecordError)
    async def _bad_record(request: Request, exc: RecordError) -> JSONResponse:  # the care log refused a value
        return JSONResponse({"detail": str(exc), "message": str(exc)}, status_code=422)

    @app.exception_handler(LogError)
    async def _log_unusable(request: Request, exc: LogError) -> JSONResponse:  # full disk, read-only, damaged
        return JSONResponse({"detail": str(exc), "message": str(exc)}, status_code=503, headers={"Retry-After": "60"})

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:  # never a traceback to the user
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}); see the server log"}, status_code=500)

    app.include_router(api_atlas.router)
    app.include_router(api_ask.router)
    app.include_router(api_model.router)
    app.include_router(api_posture.router)
    app.include_router(api_care.router)
    app.include_router(api_exercises.router)
    app.include_router(api_quiz.router)
    app.include_router(api_population.router)

    from iliopsoas.web.guards import Guards

    app.add_middleware(Guards, host=host)  # outermost: host, body size, heavy-work admission, headers

    @app.get("/api/health", tags=["app"])
    async def health() -> dict[str, Any]:  # async: answered on the event loop, never queued behind solves
        """Liveness and what this instance serves."""
        return {"ok": True, "version": __version__, "pages": list(PAGES), "token_required": bool(settings.token)}

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(plotly_js_path(), media_type="text/javascript")

    swagger = swagger_ui_dir()
    if swagger is not None:  # Swagger UI's assets from the swagger-ui-bundle-v2 wheel: the API page works offline
        app.mount("/static/vendor/swagger", StaticFiles(directory=swagger), name="swagger")
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(_page("index"))

    def _page_route(name: str) -> Any:
        def page() -> HTMLResponse:
            return HTMLResponse(_page(name))

        page.__name__ = f"page_{name}"
        return page

    for name in PAGES:
        app.get(f"/{name}", include_in_schema=False)(_page_route(name))
    app.get("/api/docs", include_in_schema=False)(_page_route("api"))
    app.get("/favicon.ico", include_in_schema=False)(lambda: Response(status_code=204))  # pages carry an inline icon
    return app
