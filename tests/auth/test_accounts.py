"""Account administration: one-time passwords, roles, deactivation, races (21 CFR 11.100)."""

import threading

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from mfg.audit.service import decoded_changes, history, verify_chain
from mfg.auth import service as accounts
from mfg.auth.login import change_password, login
from mfg.db import unit_of_work
from mfg.errors import (
    AccountInactive,
    Conflict,
    InvalidCredentials,
    InvalidInput,
    PermissionDenied,
    RuleViolation,
    SignatureRefused,
)
from mfg.models import Meaning, User, utcnow
from mfg.signatures import service as signatures
from mfg.users.roles import set_roles
from tests.factories import PASSWORD, bearer


def as_admin(engine, settings, users, fn):
    with unit_of_work(engine, settings=settings) as session:
        return fn(session, session.get(User, users["admin"].id))


def test_a_new_account_gets_a_one_time_password_that_must_be_changed(
    engine, settings, users
) -> None:
    issued = as_admin(
        engine,
        settings,
        users,
        lambda s, a: accounts.create_user(
            s, actor=a, username="nina", full_name="Nina N", roles=["qc"]
        ),
    )
    assert issued.one_time_password and issued.user.must_change_password
    with unit_of_work(engine, settings=settings) as session:
        user = login(session, username="nina", password=issued.one_time_password)
        assert user.must_change_password
        change_password(
            session,
            user=user,
            current_password=issued.one_time_password,
            new_password="my own secret 42",
        )
    with unit_of_work(engine, settings=settings) as session:
        assert not login(session, username="nina", password="my own secret 42").must_change_password


def test_a_password_reset_issues_a_one_time_password_and_ends_the_old_one(
    engine, settings, users
) -> None:
    issued = as_admin(
        engine,
        settings,
        users,
        lambda s, a: accounts.reset_password(
            s, actor=a, user=accounts.require_user(s, "qa"), reason="forgotten"
        ),
    )
    with pytest.raises(InvalidCredentials), unit_of_work(engine, settings=settings) as session:
        login(session, username="qa", password=PASSWORD)
    with unit_of_work(engine, settings=settings) as session:
        assert login(session, username="qa", password=issued.one_time_password).must_change_password


def test_a_user_with_a_one_time_password_can_do_nothing_else_until_it_is_changed(
    client: TestClient, engine, settings, users
) -> None:
    issued = as_admin(
        engine,
        settings,
        users,
        lambda s, a: accounts.reset_password(
            s, actor=a, user=accounts.require_user(s, "qa"), reason="r"
        ),
    )
    headers = bearer(client, "qa", issued.one_time_password)
    assert client.get("/api/audit/verify", headers=headers).json()["error"]["code"] == (
        "password_change_required"
    )
    changed = client.post(
        "/api/auth/password",
        headers=headers,
        json={"current_password": issued.one_time_password, "new_password": "brand new secret 7"},
    )
    assert changed.status_code == 200
    assert client.get("/api/me", headers=headers).status_code == 401  # old token ended
    fresh = bearer(client, "qa", "brand new secret 7")
    assert client.get("/api/audit/verify", headers=fresh).status_code == 200


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short", "at least"), ("qa-is-my-password", "username"), ("aaaaaaaaaaaaaa", "different")],
)
def test_the_password_policy_is_enforced(engine, settings, users, password, problem) -> None:
    with pytest.raises(RuleViolation, match=problem), unit_of_work(engine, settings=settings) as s:
        change_password(
            s, user=s.get(User, users["qa"].id), current_password=PASSWORD, new_password=password
        )


def test_usernames_are_never_reused_even_after_deactivation(engine, settings, users) -> None:
    as_admin(
        engine,
        settings,
        users,
        lambda s, a: accounts.deactivate_user(
            s, actor=a, user=accounts.require_user(s, "qc"), reason="left"
        ),
    )
    with pytest.raises(Conflict, match="never reused"):
        as_admin(
            engine,
            settings,
            users,
            lambda s, a: accounts.create_user(
                s, actor=a, username="QC", full_name="Another QC", roles=["qc"]
            ),
        )


def test_only_administrators_manage_users(engine, settings, users) -> None:
    with pytest.raises(PermissionDenied), unit_of_work(engine, settings=settings) as session:
        accounts.create_user(
            session,
            actor=session.get(User, users["qa"].id),
            username="x1",
            full_name="X",
            roles=["qa"],
        )


def test_an_administrator_cannot_deactivate_their_own_account(engine, settings, users) -> None:
    with pytest.raises(RuleViolation):
        as_admin(
            engine,
            settings,
            users,
            lambda s, a: accounts.deactivate_user(s, actor=a, user=a, reason="oops"),
        )


def test_role_changes_and_deactivation_need_a_reason(engine, settings, users) -> None:
    with pytest.raises(InvalidInput, match="reason"):
        as_admin(
            engine,
            settings,
            users,
            lambda s, a: set_roles(
                s,
                actor=a,
                user=accounts.require_user(s, "qc"),
                roles=["qc", "qa"],
                expected_version=1,
                reason="",
            ),
        )
    with pytest.raises(InvalidInput, match="reason"):
        as_admin(
            engine,
            settings,
            users,
            lambda s, a: accounts.deactivate_user(
                s, actor=a, user=accounts.require_user(s, "qc"), reason=" "
            ),
        )


def test_unknown_roles_are_refused_by_name(engine, settings, users) -> None:
    with pytest.raises(InvalidInput, match="superuser"):
        as_admin(
            engine,
            settings,
            users,
            lambda s, a: accounts.create_user(
                s, actor=a, username="x2", full_name="X", roles=["superuser"]
            ),
        )


def test_deactivation_revokes_api_tokens(client: TestClient, engine, settings, users) -> None:
    headers = bearer(client, "qc")
    as_admin(
        engine,
        settings,
        users,
        lambda s, a: accounts.deactivate_user(
            s, actor=a, user=accounts.require_user(s, "qc"), reason="left"
        ),
    )
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "account_inactive"


def test_a_role_edit_from_a_stale_form_is_refused(engine, settings, users) -> None:
    as_admin(
        engine,
        settings,
        users,
        lambda s, a: set_roles(
            s,
            actor=a,
            user=accounts.require_user(s, "qc"),
            roles=["qc", "qa"],
            expected_version=1,
            reason="covering QA",
            password=PASSWORD,
        ),
    )
    with pytest.raises(Conflict, match="changed by someone else"):
        as_admin(
            engine,
            settings,
            users,
            lambda s, a: set_roles(
                s,
                actor=a,
                user=accounts.require_user(s, "qc"),
                roles=["qc", "admin"],
                expected_version=1,
                reason="stale",
                password=PASSWORD,
            ),
        )


def _race(engine, settings, users, work) -> list[str]:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            as_admin(engine, settings, users, lambda s, a: work(s, a, n))
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        except BaseException as exc:  # pragma: no cover - shown by the assertion
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_two_concurrent_role_changes_exactly_one_succeeds(engine, settings, users) -> None:
    outcomes = _race(
        engine,
        settings,
        users,
        lambda s, a, n: set_roles(
            s,
            actor=a,
            user=accounts.require_user(s, "qc"),
            roles=["qc", ["qa", "clinician"][n]],
            expected_version=1,
            reason=f"change {n}",
            password=PASSWORD,
        ),
    )
    assert outcomes == ["conflict", "ok"]
    with unit_of_work(engine, settings=settings, write=False) as session:
        assert verify_chain(session).ok


def test_two_concurrent_deactivations_exactly_one_succeeds(engine, settings, users) -> None:
    outcomes = _race(
        engine,
        settings,
        users,
        lambda s, a, n: accounts.deactivate_user(
            s, actor=a, user=accounts.require_user(s, "technician"), reason=f"race {n}"
        ),
    )
    assert outcomes == ["conflict", "ok"]
    with Session(engine) as session:
        assert session.get(User, users["technician"].id).active is False
    with unit_of_work(engine, settings=settings, write=False) as session:
        report = verify_chain(session)
        assert report.ok


def test_reactivation_issues_a_fresh_one_time_password(engine, settings, users) -> None:
    as_admin(
        engine,
        settings,
        users,
        lambda s, a: accounts.deactivate_user(
            s, actor=a, user=accounts.require_user(s, "qc"), reason="leave"
        ),
    )
    issued = as_admin(
        engine,
        settings,
        users,
        lambda s, a: accounts.reactivate_user(
            s, actor=a, user=accounts.require_user(s, "qc"), reason="back from leave"
        ),
    )
    with pytest.raises(InvalidCredentials), unit_of_work(engine, settings=settings) as session:
        login(session, username="qc", password=PASSWORD)
    with unit_of_work(engine, settings=settings) as session:
        assert login(session, username="qc", password=issued.one_time_password).active


def test_inactive_user_cannot_use_an_old_browser_session(client, engine, settings, users) -> None:
    from tests.factories import log_in

    log_in(client, "qc")
    assert client.get("/", follow_redirects=False).status_code == 200
    as_admin(
        engine,
        settings,
        users,
        lambda s, a: accounts.deactivate_user(
            s, actor=a, user=accounts.require_user(s, "qc"), reason="left"
        ),
    )
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and "account_inactive" in response.headers["location"]
    with pytest.raises(AccountInactive), unit_of_work(engine, settings=settings) as session:
        login(session, username="qc", password=PASSWORD)


def _grant(engine, settings, users, *, roles, password="", username="qc"):  # type: ignore[no-untyped-def]
    return as_admin(
        engine,
        settings,
        users,
        lambda s, a: set_roles(
            s,
            actor=a,
            user=accounts.require_user(s, username),
            roles=roles,
            expected_version=accounts.require_user(s, username).version,
            reason="covering for a colleague",
            password=password,
        ),
    )


def test_nobody_changes_their_own_roles(engine, settings, users) -> None:
    with pytest.raises(RuleViolation) as refused:
        _grant(engine, settings, users, roles=["admin", "qa"], password=PASSWORD, username="admin")
    assert refused.value.code == "self_role_change"


def test_granting_qa_or_admin_needs_the_granting_administrators_signature(
    engine, settings, users
) -> None:
    for roles in (["qc", "qa"], ["qc", "admin"]):
        with pytest.raises(RuleViolation) as refused:
            _grant(engine, settings, users, roles=roles)
        assert refused.value.code == "signature_required"
    with pytest.raises(SignatureRefused):
        _grant(engine, settings, users, roles=["qc", "qa"], password="not the password")
    with unit_of_work(engine, settings=settings, write=False) as session:
        assert accounts.require_user(session, "qc").roles == "qc"  # nothing was granted
    _grant(engine, settings, users, roles=["qc", "technician"])  # no privileged role: unsigned


def test_a_grant_of_qa_is_signed_and_the_audit_trail_names_both_people(
    engine, settings, users
) -> None:
    _grant(engine, settings, users, roles=["qc", "qa"], password=PASSWORD)
    with unit_of_work(engine, settings=settings, write=False) as session:
        signed = signatures.shown(session, entity_type="user_roles", entity_id="qc")
        assert [s.signature.meaning for s in signed] == [Meaning.ROLES_GRANTED.value]
        assert signed[0].valid and signed[0].signature.username == "admin"
        event = history(session, entity_type="user", entity_id="qc")[-1]
        changes = decoded_changes(event)
        assert event.username == "admin" and event.action == "user.roles_changed"
        admin, qc = (session.get(User, users[n].id) for n in ("admin", "qc"))
        assert changes["granted_by"] == [None, admin.full_name]
        assert changes["granted_to"] == [None, qc.full_name]
        assert verify_chain(session).ok


def test_nobody_unlocks_their_own_account(engine, settings, users) -> None:
    with unit_of_work(engine, settings=settings) as session:
        admin = session.get(User, users["admin"].id)
        admin.locked_at = utcnow()
        session.add(admin)
    with pytest.raises(RuleViolation) as refused:
        as_admin(
            engine,
            settings,
            users,
            lambda s, a: accounts.unlock_user(s, actor=a, user=a, reason="it was me"),
        )
    assert refused.value.code == "self_unlock"


def test_a_grant_of_admin_over_the_api_needs_the_password_and_nobody_grants_themselves(
    client: TestClient, users
) -> None:
    admin = bearer(client, "admin")
    body = {"roles": ["qc", "admin"], "expected_version": 1, "reason": "second administrator"}
    refused = client.post("/api/users/qc/roles", json=body, headers=admin)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "signature_required"
    granted = client.post("/api/users/qc/roles", json=body | {"password": PASSWORD}, headers=admin)
    assert granted.status_code == 200, granted.text
    assert set(granted.json()["roles"]) == {"qc", "admin"}
    qc = bearer(client, "qc")  # the new administrator cannot take QA for themselves
    body = {"roles": ["qc", "admin", "qa"], "expected_version": 2, "reason": "I need it"}
    own = client.post("/api/users/qc/roles", json=body | {"password": PASSWORD}, headers=qc)
    assert own.status_code == 422 and own.json()["error"]["code"] == "self_role_change"
