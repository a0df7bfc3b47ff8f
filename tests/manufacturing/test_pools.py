"""Pooling: a new DIN for cultures of ≥ 2 eligible donors; the membership never changes."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from mfg.errors import RuleViolation
from mfg.models import (
    Biopsy,
    BiopsyStatus,
    Culture,
    CultureStatus,
    Donor,
    LotStatus,
    PoolMember,
    utcnow,
)
from tests.audit.tamper import execute
from tests.factories import PASSWORD, bearer
from tests.manufacturing.factories import culture_of_eligible_donor, pool


def test_a_pool_of_two_eligible_donors_gets_a_new_din_and_keeps_its_membership(lab, engine) -> None:
    first, second = culture_of_eligible_donor(lab), culture_of_eligible_donor(lab)
    lot = pool(lab, (first, 2_000_000), (second, 3_000_000))
    with Session(engine) as session:
        members = session.exec(select(PoolMember).where(PoolMember.lot_id == lot.id)).all()
        biopsy_dins = {session.get(Biopsy, m.biopsy_id).din for m in members}
        assert {session.get(Culture, m.culture_id).status for m in members} == {
            CultureStatus.POOLED
        }
        assert {session.get(Biopsy, m.biopsy_id).status for m in members} == {BiopsyStatus.POOLED}
    assert lot.din not in biopsy_dins and len(lot.din) == 13
    assert lot.status == LotStatus.IN_PROCESS and lot.total_cells == 5_000_000
    assert sorted(m.cells_contributed for m in members) == [2_000_000, 3_000_000]


def test_pooling_refused_with_fewer_than_two_donors(lab) -> None:
    culture = culture_of_eligible_donor(lab)
    with pytest.raises(RuleViolation, match="at least two different donors"):
        pool(lab, (culture, 1_000_000))


def test_pooling_refused_with_a_donor_not_eligible(lab) -> None:
    first, second = culture_of_eligible_donor(lab), culture_of_eligible_donor(lab)
    with Session(lab.engine) as session:
        donor = session.get(Donor, session.get(Biopsy, second.biopsy_id).donor_id)
    lab.result(donor, "HIV-NAT", outcome="positive")  # look-back: ineligible, biopsy on hold
    with pytest.raises(RuleViolation) as refused:
        pool(lab, (first, 1_000_000), (second, 1_000_000))
    assert any("not eligible" in r for r in refused.value.reasons)
    assert any("on hold" in r for r in refused.value.reasons)


def test_pooling_refused_with_a_culture_already_pooled(lab) -> None:
    first, second, third = (culture_of_eligible_donor(lab) for _ in range(3))
    pool(lab, (first, 1_000_000), (second, 1_000_000))
    with pytest.raises(RuleViolation, match="already pooled"):
        pool(lab, (first, 1_000_000), (third, 1_000_000))


def test_pool_membership_cannot_change_afterwards(lab, engine) -> None:
    first, second = culture_of_eligible_donor(lab), culture_of_eligible_donor(lab)
    pool(lab, (first, 1_000_000), (second, 1_000_000))
    with pytest.raises(DatabaseError, match="append-only"):
        execute(engine, "UPDATE pool_member SET cells_contributed = 1")
    with pytest.raises(DatabaseError, match="append-only"):
        execute(engine, "DELETE FROM pool_member")


def test_lots_over_the_api_and_by_scan(client, lab) -> None:
    first, second = culture_of_eligible_donor(lab), culture_of_eligible_donor(lab)
    tech = bearer(client, "technician")
    created = client.post(
        "/api/lots",
        headers=tech,
        json={
            "members": [
                {"culture": first.code, "cells": 1_500_000},
                {"culture": second.code, "cells": 2_500_000},
            ],
            "pooled_at": (utcnow() - timedelta(minutes=1)).isoformat(),
            "password": PASSWORD,
        },
    )
    assert created.status_code == 201, created.text
    din = created.json()["identifier"]
    body = client.get(f"/api/lots/{din}", headers=tech).json()
    assert body["status"] == "in_process" and len(body["members"]) == 2
    assert {m["donor"] for m in body["members"]} == {m["donor"] for m in body["members"]} and body[
        "total_cells"
    ] == 4_000_000
    assert (
        client.get("/api/lots", params={"status": "in_process"}, headers=tech).json()["total"] == 1
    )
    found = client.get("/api/scan", params={"code": f"={din}00"}, headers=tech).json()
    assert found["kind"] == "lot" and found["url"] == f"/lots/{din}"


def test_the_pool_page_pools_and_shows_the_membership(client, lab) -> None:
    from tests.factories import csrf_from, log_in

    first, second = culture_of_eligible_donor(lab), culture_of_eligible_donor(lab)
    log_in(client, "technician")
    page = client.get("/lots")
    assert first.code in page.text and second.code in page.text
    response = client.post(
        "/lots",
        data={
            "csrf_token": csrf_from(page.text),
            "culture": [first.code, second.code],  # each vessel beside the cells it gives
            "cells": ["1 000 000", "2e6"],
            "pooled_at": utcnow().astimezone(lab.settings.tz).strftime("%Y-%m-%dT%H:%M"),
            "password": PASSWORD,
        },
    )
    assert response.status_code == 200, response.text
    assert 'id="pool-members"' in response.text and first.code in response.text
    assert "Performed" in response.text
