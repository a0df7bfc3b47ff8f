"""Which language a request is answered in (docs/architecture.md#languages): the user's own
choice, else the facility's (``MFG_LANGUAGE``); before login, the browser's ``Accept-Language``
when it names a language the application speaks."""

from __future__ import annotations

from starlette.requests import Request

from mfg import i18n


def language_of(request: Request) -> str:
    """Decided once per request, when its reader is known (mfg.web.security), and kept: an
    error answer still speaks it after the request's unit of work was rolled back."""
    decided = getattr(request.state, "language", None)
    if decided is not None:
        return decided
    settings = request.app.state.settings
    user = getattr(request.state, "user", None)
    if user is not None:
        return user.language or settings.language
    return i18n.negotiate(request.headers.get("accept-language")) or settings.language


def decide_language(request: Request) -> str:
    """The request's language, now that its reader is known; kept for the rest of it."""
    request.state.language = None
    request.state.language = language_of(request)
    return request.state.language
