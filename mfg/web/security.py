"""Who is asking: the browser session (signed cookie) or an API bearer token, each naming a login
session record (mfg/auth/sessions.py); CSRF; role checks.

Every route that is not public declares ``Allow(action)``; the role test walks the routes and
proves each refuses the roles the permission table does not name.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import bindparam, select
from sqlmodel import Session

from mfg import i18n
from mfg.auth import sessions
from mfg.auth.permissions import Action, authorize
from mfg.auth.tokens import Credentials, check_credentials_current, read_token
from mfg.db import unit_of_work
from mfg.errors import (
    CsrfFailed,
    MfgError,
    NotAuthenticated,
    PasswordChangeRequired,
    SessionExpired,
)
from mfg.models import User
from mfg.web.deps import READ_ONLY_METHODS, SessionDep, run_lookup
from mfg.web.language import decide_language

SESSION_USER = "uid"
SESSION_CREDENTIALS = "cv"
SESSION_SEEN = "seen"
SESSION_CSRF = "csrf"
SESSION_ID = "sid"  # the login session record's id (only its hash is stored)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Reachable while a one-time password must still be replaced.
PASSWORD_CHANGE_PATHS = ("/account/password", "/logout", "/api/auth/password", "/static/")
C = TypeVar("C", bound=Credentials)
# The user (parameter ``user_id``) and their login session (``session_hash``), outer-joined.
USER_WITH_SESSION = sessions.with_session(select(User)).where(User.id == bindparam("user_id"))


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use; every form carries it."""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def start_browser_session(request: Request, user: User, session_id: str) -> None:
    """The cookie of the login session ``session_id`` (``sessions.start``) of ``user``."""
    request.session.clear()
    request.session.update(
        {
            SESSION_USER: user.id,
            SESSION_CREDENTIALS: user.credential_version,
            SESSION_ID: session_id,
            SESSION_SEEN: time.time(),
        }
    )
    csrf_token(request)


def renew_browser_credentials(request: Request, user: User) -> None:
    """After the user's own password change: the same session, with the new credential version
    (the session record, and its absolute end, stay as they are)."""
    request.session[SESSION_CREDENTIALS] = user.credential_version
    request.session[SESSION_SEEN] = time.time()


def browser_session_id(request: Request) -> str | None:
    value = request.session.get(SESSION_ID)
    return value if isinstance(value, str) else None


def browser_session_user_id(request: Request) -> int | None:
    value = request.session.get(SESSION_USER)
    return value if isinstance(value, int) else None


def request_session_id(request: Request) -> str | None:
    """The login session id of the request (bearer token or cookie), as already verified."""
    claim = getattr(request.state, "login_claim", None)
    return claim.session_id if claim is not None else None


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


def end_browser_session(request: Request) -> None:
    request.session.clear()


def client_address(request: Request) -> str:
    """The client's address (behind a reverse proxy, the one it forwards: uvicorn's proxy
    headers), for counting failed logins per address."""
    return request.client.host if request.client else ""


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@dataclass(frozen=True)
class LoginClaim:
    """Who a request says it is: a verified, unexpired token or a live browser session. The
    database has yet to confirm that the user's credentials are current (``confirm_login``)."""

    user_id: int
    credential_version: object
    from_cookie: bool
    session_id: str

    @property
    def params(self) -> dict[str, object]:
        """The parameters of ``CREDENTIALS`` (and ``load_current_user``'s statement)."""
        return {"user_id": self.user_id, "session_hash": sessions.hash_id(self.session_id)}


def login_claim(request: Request) -> LoginClaim | None:
    """The request's bearer token or browser session, checked without the database (signature,
    expiry, idle time); None when it carries neither."""
    settings = request.app.state.settings
    token = _bearer(request)
    if token:
        user_id, version, session_id = read_token(token, settings=settings)
        from_cookie = False
    else:
        user_id = request.session.get(SESSION_USER)
        if user_id is None:
            return None
        seen = float(request.session.get(SESSION_SEEN, 0))
        if time.time() - seen > settings.idle_timeout_minutes * 60:
            end_browser_session(request)
            raise SessionExpired(
                "Your session ended after %(minutes)s min without activity; please log in again.",
                params={"minutes": settings.idle_timeout_minutes},
            )
        version, from_cookie = request.session.get(SESSION_CREDENTIALS), True
        session_id = request.session.get(SESSION_ID)
    if not isinstance(user_id, int) or not isinstance(session_id, str):
        if not token:  # a cookie from before login sessions were records
            end_browser_session(request)
        raise NotAuthenticated()
    claim = LoginClaim(user_id, version, from_cookie, session_id)
    request.state.login_claim = claim
    return claim


def confirm_login(
    request: Request,
    claim: LoginClaim,
    credentials: C | None,
    state: sessions.SessionState | None = None,
) -> C:
    """``credentials`` (the claimed user, or their credential columns), if still current: not
    deactivated, locked or re-credentialed since, and not waiting for a new password; and its
    login session (``state``, or the same row's session columns) neither ended nor past its end."""
    try:
        current = check_credentials_current(credentials, claim.credential_version)
        sessions.check_session_live(state or current)  # type: ignore[arg-type]
    except MfgError:
        if claim.from_cookie:
            end_browser_session(request)
        raise
    if claim.from_cookie:
        request.session[SESSION_SEEN] = time.time()
    on_password_path = request.url.path.startswith(PASSWORD_CHANGE_PATHS)
    if current.must_change_password and not on_password_path:
        raise PasswordChangeRequired()
    return current


def _check_csrf(request: Request, form: Any | None) -> None:
    expected = request.session.get(SESSION_CSRF, "")
    sent = request.headers.get(CSRF_HEADER) or (form.get(CSRF_FIELD) if form is not None else None)
    if not expected or not sent or not secrets.compare_digest(str(sent), str(expected)):
        raise CsrfFailed()


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip() == "application/json"


async def csrf_protect(request: Request) -> None:
    """Every state-changing request a browser could forge must carry the session's CSRF token.

    Exempt: read-only methods, bearer-token calls (no cookie involved), and JSON bodies, which a
    page of another site cannot send without a CORS preflight this application never grants.
    """
    if request.method in READ_ONLY_METHODS or _bearer(request) or _is_json(request):
        return
    form = None
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
    _check_csrf(request, form)


def peek_user(request: Request) -> User | None:
    """The logged-in user for an error page, without refusing or changing anything."""
    if not request.session.get(SESSION_USER):
        return None
    state = request.app.state
    session_id = browser_session_id(request)
    if session_id is None:
        return None
    try:
        with unit_of_work(state.engine, settings=state.settings, write=False) as session:
            row = session.execute(
                USER_WITH_SESSION,
                {
                    "user_id": request.session[SESSION_USER],
                    "session_hash": sessions.hash_id(session_id),
                },
            ).first()
            user = check_credentials_current(
                row[0] if row else None, request.session.get(SESSION_CREDENTIALS)
            )
            sessions.check_session_live(row)  # type: ignore[arg-type]
            return user
    except MfgError:
        return None


async def current_user_optional(request: Request, session: SessionDep) -> User | None:
    """The user, read in a short read-only unit of work of its own, then handed to the
    request's session without a query (``merge(load=False)``): a writing request's transaction
    (and on SQLite the write lock) begins only when its endpoint first touches the database, in
    the endpoint's own thread, and ends there."""
    user = await run_lookup(request, lambda lookup, r: load_current_user(r, lookup), request)
    if user is not None:
        user = session.merge(user, load=False)
        request.state.user = user
    # The rest of the request (its endpoint's thread included) speaks the reader's language.
    i18n.set_language(decide_language(request))
    return user


def load_current_user(request: Request, session: Session) -> User | None:
    """The user of the request's bearer token or session cookie (None when neither is valid)."""
    claim = login_claim(request)
    if claim is None:
        user = None
    else:  # the user and the login session in one statement
        row = session.execute(USER_WITH_SESSION, claim.params).first()
        user = confirm_login(request, claim, row[0] if row else None, row)
    request.state.user = user
    return user


async def current_user(user: Annotated[User | None, Depends(current_user_optional)]) -> User:
    # async: no I/O here, so no hop through the thread pool
    if user is None:
        raise NotAuthenticated()
    return user


async def login_checked_in_endpoint(request: Request) -> None:
    """Declares a route open to any logged-in user whose endpoint checks the login itself, in
    the same database trip as its lookup (``login_claim`` and ``confirm_login`` with the
    credential columns): the scan, where every trip counts. A request with no credentials at all
    is refused here already. The route walker of the tests treats it like ``current_user`` and
    proves the 401."""
    if not _bearer(request) and request.session.get(SESSION_USER) is None:
        raise NotAuthenticated()


class Allow:
    """Route dependency: the logged-in user, if their role may perform ``action``."""

    def __init__(self, action: Action):
        self.action = action

    async def __call__(self, user: Annotated[User, Depends(current_user)]) -> User:
        return authorize(user, self.action)  # no I/O: async avoids a thread-pool hop


OptionalUser = Annotated[User | None, Depends(current_user_optional)]
CurrentUser = Annotated[User, Depends(current_user)]
