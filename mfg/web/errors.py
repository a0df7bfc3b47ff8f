"""One place that turns every error into the JSON shape of docs/architecture.md#error-shape or an
error page."""

import logging
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from mfg import i18n
from mfg.errors import (
    BadRequest,
    Busy,
    InvalidInput,
    MethodNotAllowed,
    MfgError,
    NotAuthenticated,
    NotFound,
    PasswordChangeRequired,
    PermissionDenied,
)
from mfg.i18n import N_
from mfg.web.headers import security_headers
from mfg.web.inline import sent_inline
from mfg.web.language import language_of
from mfg.web.security import peek_user
from mfg.web.templating import render

log = logging.getLogger("mfg.web")

_BY_STATUS: dict[int, type[MfgError]] = {
    400: BadRequest,
    401: NotAuthenticated,
    403: PermissionDenied,
    404: NotFound,
    405: MethodNotAllowed,
    422: InvalidInput,
}


class InternalError(MfgError):
    code = "internal_error"
    status_code = 500
    default_message = N_("Something went wrong on the server; nothing was saved. Please try again.")


def wants_json(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def with_retry_after(error: MfgError, response: Response) -> Response:
    """A refusal that ends by itself (busy, too many attempts) says when to try again."""
    seconds = getattr(error, "retry_after_seconds", None)
    if seconds is not None:
        response.headers["Retry-After"] = str(seconds)
    return response


async def respond(request: Request, error: MfgError) -> Response:
    """The error's answer; an error page (which reads the user for its frame) is made in the
    thread pool, never on the event loop."""
    if wants_json(request) or sent_inline(request.headers):
        return error_response(request, error)
    return await run_in_threadpool(error_response, request, error)


def busy_of(exc: Exception) -> Busy | None:
    """The database could not give what the request needed in time: a pool checkout that
    timed out, SQLite's write lock still held after its busy timeout, a PostgreSQL lock or
    statement timeout, a connection the server dropped (restarted). Such a request is answered
    503 with ``Retry-After``, never 500."""
    if isinstance(exc, PoolTimeout):
        return Busy()
    if isinstance(exc, OperationalError) and exc.connection_invalidated:
        return Busy()  # the server dropped the connection (a restart): the next one reconnects
    if isinstance(exc, OperationalError):
        text = str(exc.orig) if exc.orig is not None else str(exc)
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if "database is locked" in text or sqlstate in ("55P03", "57014", "40P01"):
            return Busy()
    return None


def error_response(request: Request, error: MfgError) -> Response:
    if wants_json(request) or sent_inline(request.headers):
        # Under /api, or a page form sent by its script: the script shows it on the form, in
        # the reader's language (the code does not change).
        with i18n.use_language(language_of(request)):
            body = {"error": error.as_dict()}
        response = JSONResponse(body, status_code=error.status_code)
        return with_retry_after(error, response)
    # A person at a page is sent where they can act: the login form, or the password form.
    if isinstance(error, NotAuthenticated) and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = f"/login?next={quote(target, safe='')}"
        if error.code != NotAuthenticated.code:
            login += f"&reason={error.code}"
        return RedirectResponse(login, status_code=303)
    if isinstance(error, PasswordChangeRequired):
        return RedirectResponse("/account/password", status_code=303)
    # The request's own unit of work was rolled back: read the user afresh for the page frame.
    request.state.user = peek_user(request) if "session" in request.scope else None
    context = {"error": error, "form_page": _form_page(request)}
    return with_retry_after(
        error, render(request, "web/error.html", context, status_code=error.status_code)
    )


def _form_page(request: Request) -> str | None:
    """For a refused form, the page it was sent from (a path of this site), so that the person
    goes back to it: the browser shows the form again as they filled it."""
    if request.method != "POST":
        return None
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def _validation_details(exc: RequestValidationError) -> dict[str, Any]:
    """Every field at fault in ``fields``; when it is one field, ``field`` names it, as the
    services' own ``InvalidInput`` does."""
    fields = []
    for item in exc.errors():
        location = [str(part) for part in item.get("loc", ()) if part != "body"]
        fields.append({"field": ".".join(location), "message": item.get("msg", "invalid")})
    named = {f["field"] for f in fields}
    return {"field": named.pop(), "fields": fields} if len(named) == 1 else {"fields": fields}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MfgError)
    async def _domain(request: Request, exc: MfgError) -> Response:
        return await respond(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = _validation_details(exc)
        summary = "; ".join(f"{f['field'] or 'request'}: {f['message']}" for f in details["fields"])
        return await respond(request, InvalidInput(summary or None, details=details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        error_class = _BY_STATUS.get(exc.status_code, BadRequest)
        message, params = None, {"path": request.url.path, "method": request.method}
        if exc.status_code == 404:
            message = N_("Nothing is at this address: %(path)s")
        elif exc.status_code == 405:
            message = N_("%(path)s does not accept %(method)s.")
        error = error_class(message, params=params if message else None)
        response = await respond(request, error)
        response.status_code = exc.status_code
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(PoolTimeout)
    @app.exception_handler(OperationalError)
    async def _database(request: Request, exc: Exception) -> Response:
        busy = busy_of(exc)
        if busy is not None:
            log.warning("busy on %s %s: %s", request.method, request.url.path, exc)
            return await respond(request, busy)
        log.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
        return await respond(request, InternalError())

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = await respond(request, InternalError())
        # Starlette answers an unhandled error outside every middleware, the security headers'
        # included: this answer carries them itself.
        https = request.app.state.settings.cookie_secure
        for name, value in security_headers(request.url.path, https=https):
            response.headers[name.decode()] = value.decode()
        return response
