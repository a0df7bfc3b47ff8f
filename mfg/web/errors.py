"""One place that turns every error into the JSON shape of DESIGN.md §7 or an error page."""

import logging
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mfg.errors import (
    BadRequest,
    InvalidInput,
    MethodNotAllowed,
    MfgError,
    NotAuthenticated,
    NotFound,
    PasswordChangeRequired,
    PermissionDenied,
)
from mfg.web.inline import sent_inline
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
    default_message = "Something went wrong on the server; nothing was saved. Please try again."


def wants_json(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def error_response(request: Request, error: MfgError) -> Response:
    if wants_json(request) or sent_inline(request.headers):
        # Under /api, or a page form sent by its script: the script shows it on the form.
        return JSONResponse({"error": error.as_dict()}, status_code=error.status_code)
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
    return render(request, "web/error.html", context, status_code=error.status_code)


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
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = _validation_details(exc)
        summary = "; ".join(f"{f['field'] or 'request'}: {f['message']}" for f in details["fields"])
        return error_response(request, InvalidInput(summary or None, details=details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        error_class = _BY_STATUS.get(exc.status_code, BadRequest)
        message = None
        if exc.status_code == 404:
            message = f"Nothing is at this address: {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.url.path} does not accept {request.method}."
        error = error_class(message)
        response = error_response(request, error)
        response.status_code = exc.status_code
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, InternalError())
