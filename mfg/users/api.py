"""JSON API: tokens, the caller's own account, and user administration."""

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response

from mfg.auth import service as accounts
from mfg.auth import sessions
from mfg.auth.login import change_password, login
from mfg.auth.permissions import Action
from mfg.auth.tokens import issue_token
from mfg.models import User
from mfg.users.roles import set_roles
from mfg.users.schemas import (
    IssuedPasswordPublic,
    MeChange,
    PasswordChange,
    Reason,
    RolesChange,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserList,
    UserPublic,
)
from mfg.web.deps import Router, SessionDep
from mfg.web.security import (
    Allow,
    CurrentUser,
    client_address,
    request_session_id,
    user_agent,
)

router = Router(prefix="/api", tags=["accounts"])
Admin = Annotated[User, Depends(Allow(Action.MANAGE_USERS))]


@router.post("/auth/token", response_model=TokenResponse)
def token(body: TokenRequest, request: Request, session: SessionDep) -> TokenResponse:
    """API login: a bearer token for ``Authorization: Bearer …``."""
    settings = request.app.state.settings
    user = login(
        session,
        username=body.username,
        password=body.password,
        address=client_address(request),
    )
    session_id = sessions.start(
        session,
        user=user,
        kind=sessions.TOKEN,
        lifetime=timedelta(minutes=settings.token_lifetime_minutes),
        address=client_address(request),
        user_agent=user_agent(request),
    )
    return TokenResponse(
        access_token=issue_token(user, session_id, settings=settings),
        expires_in=settings.token_lifetime_minutes * 60,
    )


@router.post("/auth/logout", status_code=204)
def logout(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """End the caller's login session (its bearer token, or the browser session) at once."""
    session_id = request_session_id(request)
    if session_id is not None:
        sessions.end(session, user=user, session_id=session_id)
    return Response(status_code=204)


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.of(user)


@router.patch("/me", response_model=UserPublic)
def change_me(body: MeChange, user: CurrentUser, session: SessionDep) -> UserPublic:
    """Change one's own account: the language the application speaks to you (error messages
    of the API included; their codes do not change)."""
    return UserPublic.of(accounts.choose_language(session, user=user, language=body.language))


@router.post("/auth/password", response_model=UserPublic)
def password(body: PasswordChange, user: CurrentUser, session: SessionDep) -> UserPublic:
    """Change one's own password (required after a one-time password). Every other session and
    token of the user ends; this token too (its credential version is old): request a new one."""
    changed = change_password(
        session,
        user=user,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return UserPublic.of(changed)


@router.get("/users", response_model=UserList)
def users(actor: Admin, session: SessionDep) -> UserList:
    items = [UserPublic.of(u) for u in accounts.list_users(session, actor=actor)]
    return UserList(items=items, total=len(items))


@router.post("/users", response_model=IssuedPasswordPublic, status_code=201)
def create(body: UserCreate, actor: Admin, session: SessionDep) -> IssuedPasswordPublic:
    issued = accounts.create_user(
        session, actor=actor, username=body.username, full_name=body.full_name, roles=body.roles
    )
    return IssuedPasswordPublic(
        user=UserPublic.of(issued.user), one_time_password=issued.one_time_password
    )


@router.get("/users/{username}", response_model=UserPublic)
def read(username: str, actor: Admin, session: SessionDep) -> UserPublic:
    return UserPublic.of(accounts.require_user(session, username))


@router.post("/users/{username}/roles", response_model=UserPublic)
def roles(username: str, body: RolesChange, actor: Admin, session: SessionDep) -> UserPublic:
    """Change another user's roles; granting ``qa`` or ``admin`` is signed with ``password``."""
    user = accounts.require_user(session, username)
    changed = set_roles(
        session,
        actor=actor,
        user=user,
        roles=body.roles,
        expected_version=body.expected_version,
        reason=body.reason,
        password=body.password,
    )
    return UserPublic.of(changed)


@router.post("/users/{username}/deactivate", response_model=UserPublic)
def deactivate(username: str, body: Reason, actor: Admin, session: SessionDep) -> UserPublic:
    user = accounts.require_user(session, username)
    return UserPublic.of(
        accounts.deactivate_user(session, actor=actor, user=user, reason=body.reason)
    )


@router.post("/users/{username}/unlock", response_model=UserPublic)
def unlock(username: str, body: Reason, actor: Admin, session: SessionDep) -> UserPublic:
    user = accounts.require_user(session, username)
    return UserPublic.of(accounts.unlock_user(session, actor=actor, user=user, reason=body.reason))


@router.post("/users/{username}/reset-password", response_model=IssuedPasswordPublic)
def reset(username: str, body: Reason, actor: Admin, session: SessionDep) -> IssuedPasswordPublic:
    user = accounts.require_user(session, username)
    issued = accounts.reset_password(session, actor=actor, user=user, reason=body.reason)
    return IssuedPasswordPublic(
        user=UserPublic.of(issued.user), one_time_password=issued.one_time_password
    )


@router.post("/users/{username}/reactivate", response_model=IssuedPasswordPublic)
def reactivate(
    username: str, body: Reason, actor: Admin, session: SessionDep
) -> IssuedPasswordPublic:
    user = accounts.require_user(session, username)
    issued = accounts.reactivate_user(session, actor=actor, user=user, reason=body.reason)
    return IssuedPasswordPublic(
        user=UserPublic.of(issued.user), one_time_password=issued.one_time_password
    )
