"""Pages: login, logout, own password, and user administration for administrators."""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mfg.audit.service import history
from mfg.auth import service as accounts
from mfg.auth import sessions
from mfg.auth.login import change_password, login
from mfg.auth.permissions import Action
from mfg.errors import MfgError, NotFound
from mfg.i18n import LANGUAGES, N_, gettext
from mfg.identifiers.keyboard import recover_latin
from mfg.models import Role, User
from mfg.models.auth import ROLE_LABELS
from mfg.users.roles import set_roles
from mfg.users.scan import staff_code
from mfg.web.deps import Router, SessionDep, run_work
from mfg.web.errors import with_retry_after
from mfg.web.security import (
    Allow,
    CurrentUser,
    OptionalUser,
    browser_session_id,
    browser_session_user_id,
    client_address,
    end_browser_session,
    renew_browser_credentials,
    start_browser_session,
    user_agent,
)
from mfg.web.templating import flash, render

router = Router()
Admin = Annotated[User, Depends(Allow(Action.MANAGE_USERS))]
FormText = Annotated[str, Form(max_length=1000)]

LOGIN_REASONS = {
    "session_expired": N_("Your session ended; please log in again."),
    "account_inactive": N_("That account is deactivated."),
    "account_locked": N_("That account is locked; an administrator must unlock it."),
}


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse, name="login")
def login_form(request: Request, user: OptionalUser, next: str = "/", reason: str = "") -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    context = {"next": _safe_next(next), "notice": LOGIN_REASONS.get(reason), "username": ""}
    return render(request, "users/login.html", context)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=1000)] = "/",
) -> Response:
    try:
        user = login(session, username=username, password=password, address=client_address(request))
    except MfgError as error:  # the failed attempt is still recorded (keep_on_failure)
        context = {"next": _safe_next(next), "error": _login_refusal(error, username)}
        context["username"] = username
        page = render(request, "users/login.html", context, status_code=error.status_code)
        return with_retry_after(error, page)
    session_id = sessions.start(
        session,
        user=user,
        kind=sessions.BROWSER,
        lifetime=sessions.BROWSER_LIFETIME,
        address=client_address(request),
        user_agent=user_agent(request),
    )
    start_browser_session(request, user, session_id)
    target = "/account/password" if user.must_change_password else _safe_next(next)
    return RedirectResponse(target, status_code=303)


def _login_refusal(error: MfgError, username: str) -> str:
    """Why the login was refused, and whether the keyboard layout was Cyrillic: usernames are
    Latin, so Cyrillic in one means the layout, and the password was typed with it too."""
    latin, russian = recover_latin(username.strip())
    if not russian:
        return error.localized()
    return " ".join(
        (
            error.localized(),
            gettext(
                "The keyboard layout was Cyrillic: “%(typed)s” is “%(latin)s” on a Latin layout. "
                "Switch the layout and type both again.",
                typed=username.strip(),
                latin=latin.lower(),
            ),
        )
    )


@router.post("/logout", name="logout")
def logout(request: Request, session: SessionDep) -> Response:
    """Ends the login session record at once: a copy of the cookie no longer works."""
    session_id, user_id = browser_session_id(request), browser_session_user_id(request)
    user = session.get(User, user_id) if session_id and user_id is not None else None
    if user is not None and session_id is not None:
        sessions.end(session, user=user, session_id=session_id)
    end_browser_session(request)
    flash(request, N_("You are logged out."))
    return RedirectResponse("/login", status_code=303)


@router.get("/account", response_class=HTMLResponse, name="account")
def account(request: Request, user: CurrentUser) -> Response:
    return render(request, "users/account.html", {"languages": LANGUAGES})


@router.post("/account", response_class=HTMLResponse)
def account_submit(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """One's own language: the next page already speaks it."""
    accounts.choose_language(session, user=user, language=language or None)
    flash(request, N_("Your language was saved."))
    return RedirectResponse("/account", status_code=303)


@router.get("/account/password", response_class=HTMLResponse, name="password")
def password_form(request: Request, user: CurrentUser) -> Response:
    return render(request, "users/password.html", {"forced": user.must_change_password})


@router.post("/account/password", response_class=HTMLResponse)
def password_submit(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    repeat_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    forced = user.must_change_password
    if new_password != repeat_password:
        context = {"forced": forced, "error": "The two new passwords differ."}
        return render(request, "users/password.html", context, status_code=422)
    try:
        change_password(
            session,
            user=user,
            current_password=current_password,
            new_password=new_password,
            keep_session=browser_session_id(request),
        )
    except MfgError as error:
        context = {
            "forced": forced,
            "error": error.message,
            "reasons": error.details.get("reasons"),
        }
        return render(request, "users/password.html", context, status_code=error.status_code)
    renew_browser_credentials(request, user)  # this session goes on; the others have ended
    flash(request, N_("Your password was changed."))
    return RedirectResponse("/", status_code=303)


@router.get("/admin/users", response_class=HTMLResponse, name="users")
def users_page(request: Request, actor: Admin, session: SessionDep) -> Response:
    context = {
        "users": accounts.list_users(session, actor=actor),
        "roles": list(Role),
        "labels": ROLE_LABELS,
    }
    return render(request, "users/users.html", context)


@router.post("/admin/users", response_class=HTMLResponse)
async def users_create(request: Request, actor: Admin, session: SessionDep) -> Response:
    form = await request.form()
    issued = await run_work(
        session,
        lambda: accounts.create_user(
            session,
            actor=actor,
            username=str(form.get("username", "")),
            full_name=str(form.get("full_name", "")),
            roles=[str(r) for r in form.getlist("roles")],
        ),
    )
    return render(request, "users/issued.html", {"issued": issued, "why": "created"})


@router.get("/admin/users/{username}", response_class=HTMLResponse, name="user")
def user_page(username: str, request: Request, actor: Admin, session: SessionDep) -> Response:
    subject = accounts.require_user(session, username)
    context = {
        "subject": subject,
        "badge": staff_code(subject),
        "roles": list(Role),
        "labels": ROLE_LABELS,
        "events": history(session, entity_type="user", entity_id=subject.username),
    }
    return render(request, "users/user.html", context)


@router.post("/admin/users/{username}/roles")
async def user_roles(
    username: str, request: Request, actor: Admin, session: SessionDep
) -> Response:
    form = await request.form()

    def change() -> str:
        subject = accounts.require_user(session, username)
        set_roles(
            session,
            actor=actor,
            user=subject,
            roles=[str(r) for r in form.getlist("roles")],
            expected_version=int(str(form.get("expected_version", "0")) or 0),
            reason=str(form.get("reason", "")),
            password=str(form.get("password", "")),
        )
        return subject.username

    changed = await run_work(session, change)
    flash(request, "Roles of %(username)s changed.", "ok", username=changed)
    return RedirectResponse(f"/admin/users/{changed}", status_code=303)


@router.post("/admin/users/{username}/{action}", response_class=HTMLResponse)
def user_action(
    username: str,
    action: str,
    request: Request,
    actor: Admin,
    session: SessionDep,
    reason: FormText = "",
) -> Response:
    subject = accounts.require_user(session, username)
    if action == "deactivate":
        accounts.deactivate_user(session, actor=actor, user=subject, reason=reason)
        flash(request, "%(username)s: deactivate done.", "ok", username=subject.username)
    elif action == "unlock":
        accounts.unlock_user(session, actor=actor, user=subject, reason=reason)
        flash(request, "%(username)s: unlock done.", "ok", username=subject.username)
    elif action in ("reset-password", "reactivate"):
        service = (
            accounts.reset_password if action == "reset-password" else accounts.reactivate_user
        )
        issued = service(session, actor=actor, user=subject, reason=reason)
        return render(request, "users/issued.html", {"issued": issued, "why": action})
    else:
        raise NotFound("There is no account action %(action)s.", params={"action": repr(action)})
    return RedirectResponse(f"/admin/users/{subject.username}", status_code=303)
