"""The web application: pages and ``/api/v1`` in one FastAPI app.

Layers, outermost first: request ID + security headers + last-resort error page
(:func:`_request_context`), signed session cookie (Starlette ``SessionMiddleware``), page language,
then the routes. Errors: a :class:`~cakupan.errors.CakupanError` becomes an HTML page or RFC 9457
problem details (``/api/...``); anything unexpected becomes a page naming the request ID (the
traceback goes to the log, NIKs masked), never a stack trace.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cakupan.dates import Clock, SystemClock
from cakupan.errors import CakupanError, ErrorKind, FieldProblem
from cakupan.i18n import Text, set_lang, t
from cakupan.settings import get_settings
from cakupan.web.deps import LoginRequiredError, request_lang
from cakupan.web.log_redaction import install_redaction
from cakupan.web.templating import render

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "cakupan_session"
#: A signed-in session lasts this long after the last request (sliding: re-signed each response).
SESSION_MAX_AGE_SECONDS = 8 * 60 * 60
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

logger = logging.getLogger("cakupan.web")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'self'"
    ),
}

_STATUS_TITLES: dict[int, Text] = {
    404: t("Halaman tidak ditemukan", "Page not found"),
    405: t("Metode tidak diizinkan", "Method not allowed"),
}


def create_app(
    engine: Engine | None = None,
    *,
    secret_key: str | None = None,
    clock: Clock | None = None,
    analytics_snapshot: Path | None = None,
) -> FastAPI:
    """The application on ``engine`` (default: the configured database, brought up to date).
    ``secret_key`` signs session cookies (default: ``CAKUPAN_SECRET_KEY`` or the key kept in the
    user data directory); ``clock`` is what actions and pages read as "now" (default: system);
    ``analytics_snapshot`` is the national analytics snapshot directory (default: settings)."""
    from cakupan.analytics import pages as analytics_pages
    from cakupan.campaigns import pages as campaigns_pages
    from cakupan.claims import pages as claims_pages
    from cakupan.dashboard import operations as dashboard_operations
    from cakupan.dashboard import pages as dashboard_pages
    from cakupan.db import make_engine, make_session_factory
    from cakupan.incentives import pages as incentives_pages
    from cakupan.partners import pages as partners_pages
    from cakupan.reminders import api as reminders_api
    from cakupan.reminders import pages as reminders_pages
    from cakupan.retention import pages as retention_pages
    from cakupan.scheduling import pages as jobs_pages
    from cakupan.targets import pages as targets_pages
    from cakupan.web import api, pages
    from cakupan.web.secret import load_or_create_secret

    settings = get_settings()
    if engine is None:
        engine = make_engine(settings.database_url)
        if settings.auto_migrate:
            from cakupan.bootstrap import ensure_ready

            ensure_ready(engine)
    key = secret_key or load_or_create_secret()
    install_redaction()

    app = FastAPI(
        title="cakupan",
        summary="BPU registry, ledger and shared dashboard / registri, buku besar dan dasbor BPU",
        # The interactive docs pages load their scripts from a CDN: off (no external assets).
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.secret_key = key
    app.state.clock = clock or SystemClock()
    app.state.analytics_snapshot = analytics_snapshot or settings.analytics_snapshot

    # The API first: routes are matched in order, and partner requests are the busiest.
    app.include_router(api.router)
    app.include_router(reminders_api.router)
    app.include_router(pages.router)
    app.include_router(targets_pages.router)
    app.include_router(dashboard_pages.router)
    app.include_router(dashboard_operations.router)
    app.include_router(campaigns_pages.router)
    app.include_router(incentives_pages.router)
    app.include_router(analytics_pages.router)
    app.include_router(retention_pages.router)
    app.include_router(claims_pages.router)
    app.include_router(partners_pages.router)
    app.include_router(jobs_pages.router)
    app.include_router(reminders_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(_PageLanguage)
    app.add_middleware(
        SessionMiddleware,
        secret_key=key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_SECONDS,
        same_site="lax",
        https_only=settings.secure_cookies,
    )

    app.add_middleware(_RequestContext, secure_cookies=settings.secure_cookies)

    app.add_exception_handler(CakupanError, _cakupan_error)  # type: ignore[arg-type]
    app.add_exception_handler(LoginRequiredError, _login_required)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    return app


class _PageLanguage:
    """Sets the language of messages for the request (:func:`~cakupan.web.deps.request_lang`).
    Plain ASGI (no extra task per request, unlike ``@app.middleware``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            set_lang(request_lang(Request(scope)))
        await self.app(scope, receive, send)


class _RequestContext:
    """The outermost layer: a request ID (the client's ``X-Request-ID`` when well formed, else a
    new one) in ``request.state`` and in every answer, the security headers, and the last-resort
    answer to an unexpected error (logged with the request ID; the user gets no stack trace).
    Plain ASGI: headers are added as the response starts, nothing is buffered."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.headers = list(SECURITY_HEADERS.items())
        if secure_cookies:  # served over HTTPS: browsers must keep to it
            self.headers.append(("Strict-Transport-Security", "max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = False
        if _control_characters_in(scope):
            # A NUL or other control character in the path or a query value is never valid
            # input (PostgreSQL refuses NUL in text): 400 for every route, before any handler.
            await _bad_request(
                Request(scope),
                t(
                    "alamat berisi karakter kontrol (mis. %00)",
                    "the URL holds a control character (e.g. %00)",
                ),
            )(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                for name, value in self.headers:
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("unhandled error, request %s %s", request_id, scope.get("path", ""))
            if started:
                raise
            await _unexpected(Request(scope))(scope, receive, send_with_headers)


_CONTROL_IN_URL = re.compile(rb"%(?:[01][0-9a-f]|7f)", re.IGNORECASE)


def _control_characters_in(scope: Scope) -> bool:
    """Whether the request's path or query string holds a C0 control character or DEL (raw or
    percent-encoded)."""
    path = scope.get("path", "")
    query: bytes = scope.get("query_string", b"")
    return (
        any(ord(c) < 0x20 or ord(c) == 0x7F for c in path)
        or _CONTROL_IN_URL.search(query) is not None
        or any(b < 0x20 or b == 0x7F for b in query)
    )


def _bad_request(request: Request, message: Text) -> Response:
    """A 400 answered outside the session layer (the request never reaches a route)."""
    error = CakupanError(title=message, kind=ErrorKind.INVALID, code="bad-request")
    if _is_api(request):
        body = error.as_problem("id", instance=None)
        body["status"] = 400
        return JSONResponse(body, status_code=400, media_type="application/problem+json")
    return Response(
        f"<!doctype html><html lang='id'><meta charset='utf-8'><title>400</title>"
        f"<main class='container'><h1>400</h1><p>{message.render('id')}</p>"
        f"<p>{message.render('en')}</p></main></html>",
        status_code=400,
        media_type="text/html",
    )


def _with_status(
    response: Response, status: int, headers: Mapping[str, str] | None = None
) -> Response:
    """``response`` answered with ``status`` (a problem body says the same status)."""
    if isinstance(response, JSONResponse):
        body = json.loads(bytes(response.body))
        body["status"] = status
        response = JSONResponse(
            body,
            status_code=status,
            media_type="application/problem+json",
            headers={k: v for k, v in response.headers.items() if k.lower() == "www-authenticate"},
        )
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, error: CakupanError) -> Response:
    """The response for ``error``: problem details for the API, an error page otherwise."""
    lang = request_lang(request)
    status = error.kind.http_status
    if _is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        headers.update(error.headers)
        return JSONResponse(
            error.as_problem(lang, instance=request.url.path),
            status_code=status,
            media_type="application/problem+json",
            headers=headers,
        )
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title": error.title.render(lang),
            "problems": [p.render(lang) for p in error.problems],
        },
        status_code=status,
    )


async def _cakupan_error(request: Request, error: CakupanError) -> Response:
    return error_response(request, error)


async def _login_required(request: Request, exc: LoginRequiredError) -> Response:
    return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    title = _STATUS_TITLES.get(
        exc.status_code, t(f"Kesalahan {exc.status_code}", f"Error {exc.status_code}")
    )
    kind = ErrorKind.NOT_FOUND if exc.status_code == 404 else ErrorKind.INVALID
    error = CakupanError(title=title, kind=kind, code=kind.slug)
    # The real status in the body too, and the exception's headers (405: ``Allow``).
    return _with_status(error_response(request, error), exc.status_code, exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = [
        FieldProblem(
            field=".".join(str(part) for part in item.get("loc", ())[1:]) or "request",
            message=t(str(item.get("msg", "tidak valid")), str(item.get("msg", "invalid"))),
            code=str(item.get("type", "invalid")),
        )
        for item in exc.errors()
    ]
    error = CakupanError(title=t("Masukan tidak valid", "Invalid input"), problems=problems)
    if any(item.get("type") == "json_invalid" for item in exc.errors()):
        # A body that is not JSON at all (invalid UTF-8, nesting too deep): 400, said in the body.
        return _with_status(error_response(request, error), 400)
    return error_response(request, error)


def _unexpected(request: Request) -> Response:
    request_id = getattr(request.state, "request_id", "")
    error = CakupanError(
        title=t(
            f"Terjadi kesalahan tak terduga. Sebutkan kode permintaan {request_id} kepada admin.",
            f"An unexpected error occurred. Quote request ID {request_id} to the administrator.",
        ),
        kind=ErrorKind.INVALID,
        code="unexpected",
    )
    lang = request_lang(request) if "session" in request.scope else "id"
    if _is_api(request):
        body = error.as_problem(lang, instance=request.url.path)
        body["status"] = 500
        return JSONResponse(body, status_code=500, media_type="application/problem+json")
    return Response(
        f"<!doctype html><html lang='{lang}'><meta charset='utf-8'><title>500</title>"
        f"<link rel='stylesheet' href='/static/css/app.css'><main class='container'>"
        f"<h1>500</h1><p>{error.title.render(lang)}</p><p><a href='/'>cakupan</a></p></main></html>",
        status_code=500,
        media_type="text/html",
    )
