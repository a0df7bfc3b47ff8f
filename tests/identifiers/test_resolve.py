"""The resolver with a rider: the rider's check comes first, whatever the lookup finds."""

import pytest
from sqlalchemy import bindparam, select

from mfg.auth.tokens import CREDENTIALS
from mfg.identifiers.errors import ScanNotFound, UnknownStructure
from mfg.identifiers.resolve import Resolution, Resolver, Rider, RowLookup
from mfg.identifiers.scan import TokenKind
from mfg.models import User
from mfg.record_kinds import build_resolver

DOSE_CODE = "=A99992600000100=<S1234VA0"  # no such dose in an empty database


class Refused(Exception):
    pass


def refuse(row) -> None:
    raise Refused(row)


def accept(row) -> None:
    assert row is not None


def test_the_rider_refuses_before_the_lookup_says_not_found(session, users) -> None:
    rider = Rider(CREDENTIALS, {"user_id": users["qc"].id, "session_hash": ""}, refuse)
    with pytest.raises(Refused):
        build_resolver().resolve(session, DOSE_CODE, rider=rider)


def test_the_rider_refuses_before_a_malformed_code_is_explained(session, users) -> None:
    rider = Rider(CREDENTIALS, {"user_id": users["qc"].id, "session_hash": ""}, refuse)
    with pytest.raises(Refused):
        build_resolver().resolve(session, "nonsense", rider=rider)
    with pytest.raises(UnknownStructure):
        build_resolver().resolve(
            session,
            "nonsense",
            rider=Rider(CREDENTIALS, {"user_id": users["qc"].id, "session_hash": ""}, accept),
        )


def test_the_rider_gets_its_row_when_the_lookup_finds_nothing(session, users) -> None:
    seen = []
    rider = Rider(CREDENTIALS, {"user_id": users["qc"].id, "session_hash": ""}, seen.append)
    with pytest.raises(ScanNotFound):
        build_resolver().resolve(session, DOSE_CODE, rider=rider)
    assert len(seen) == 1 and seen[0].active and seen[0].credential_version == 1


def test_the_rider_gets_no_row_for_an_unknown_user(session, users) -> None:
    seen = []
    with pytest.raises(ScanNotFound):
        build_resolver().resolve(
            session,
            DOSE_CODE,
            rider=Rider(CREDENTIALS, {"user_id": 999_999, "session_hash": ""}, seen.append),
        )
    assert seen == [None]


def test_a_rider_and_a_lookup_may_not_share_a_parameter_name(session, users) -> None:
    clashing = RowLookup(
        select(User.username).where(User.id == bindparam("user_id")),
        lambda scan: {"user_id": 1},
        lambda row, scan: Resolution("staff", row[0], "/", row[0]),
    )
    resolver = Resolver()
    resolver.on_token(TokenKind.DIN, clashing)
    with pytest.raises(ValueError, match="parameter names"):
        resolver.resolve(session, DOSE_CODE, rider=Rider(CREDENTIALS, {"user_id": 1}, accept))
