"""The process's own clock: a culture is not read before its incubation ends, and the result
form proposes the reading that falls due next (never "final" by default)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from mfg.models import SpecTest, utcnow
from mfg.qc import samples
from mfg.qc.rules import next_reading, reading_due, reading_not_due, readings_of
from tests.factories import bearer, log_in
from tests.manufacturing.factories import filled_lot

TAKEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _sterility(incubation_days: int | None = 14) -> SpecTest:
    return SpecTest(
        spec_version_id=1,
        position=1,
        code="STER-AER",
        name="Sterility, aerobic culture",
        kind="categorical",
        choices="no growth|growth",
        accepted="no growth",
        stage="release",
        preliminary_readings="day 3|day 7",
        incubation_days=incubation_days,
    )


@pytest.mark.parametrize(
    ("reading", "after", "refused"),
    [
        ("day 3", timedelta(days=3) - timedelta(minutes=1), True),
        ("day 3", timedelta(days=3), False),
        ("day 7", timedelta(days=6, hours=23), True),
        ("day 7", timedelta(days=7), False),
        ("final", timedelta(days=1), True),  # the defect: 14-day "no growth" on day 1
        ("final", timedelta(days=14) - timedelta(minutes=1), True),
        ("final", timedelta(days=14), False),
    ],
)
def test_reading_not_due(reading: str, after: timedelta, refused: bool) -> None:
    problem = reading_not_due(_sterility(), reading, taken_at=TAKEN, tested_at=TAKEN + after)
    assert (problem is not None) == refused
    if problem:
        assert problem.code == "reading_not_due" and "due" in problem.message


def test_reading_not_due_without_an_incubation_waits_for_the_last_preliminary_reading() -> None:
    """A specification approved before tests had an incubation: the final reading waits at
    least as long as the last preliminary one."""
    old = _sterility(incubation_days=None)
    assert reading_due(old, "final", TAKEN) == TAKEN + timedelta(days=7)
    viability = SpecTest(spec_version_id=1, position=2, code="VIAB", name="v", kind="numeric")
    assert reading_due(viability, "final", TAKEN) is None  # read when it is done


def test_next_reading_proposes_the_first_reading_without_a_result() -> None:
    test = _sterility()
    assert readings_of(test) == ["day 3", "day 7", "final"]
    assert next_reading(test, []) == "day 3"
    assert next_reading(test, ["day 3"]) == "day 7"
    assert next_reading(test, ["day 3", "day 7"]) == "final"
    assert next_reading(test, ["day 3", "day 7", "final"]) == "final"


def test_reading_not_due_is_refused_through_the_api_naming_the_field(client, lab) -> None:
    """A final sterility "no growth" one day after sampling is refused (it used to complete a
    conditional release); the day-3 reading three days after sampling is taken."""
    _, doses = filled_lot(lab, count=1)
    taken = (utcnow() - timedelta(days=4)).isoformat()
    sample = client.post(
        "/api/qc-samples",
        headers=bearer(client, "technician"),
        json={"source": doses[0].identifier, "tests": ["STER-AER"], "taken_at": taken},
    ).json()["identifier"]
    analyst = bearer(client, "qc")
    early = client.post(
        f"/api/qc-samples/{sample}/results",
        headers=analyst,
        json={"test_code": "STER-AER", "value": "no growth", "tested_at": utcnow().isoformat()},
    )
    assert early.status_code == 422, early.text
    error = early.json()["error"]
    assert error["code"] == "reading_not_due" and error["details"]["field"] == "tested_at"
    assert "14 days after the sample was taken" in error["message"]
    day_3 = client.post(
        f"/api/qc-samples/{sample}/results",
        headers=analyst,
        json={
            "test_code": "STER-AER",
            "value": "no growth",
            "reading": "day 3",
            "tested_at": utcnow().isoformat(),
        },
    )
    assert day_3.status_code == 201, day_3.text


def test_the_result_form_proposes_the_reading_due_next(client, lab) -> None:
    _, doses = filled_lot(lab, count=1)
    sample = lab.run(
        "technician",
        lambda s, a: samples.take_sample(
            s,
            actor=a,
            source=doses[0].identifier,
            tests=["STER-AER"],
            taken_at=utcnow() - timedelta(days=8),
        ),
    )
    log_in(client, "qc")

    def proposed() -> str:
        page = client.get(f"/qc/samples/{sample.code}").text
        return re.search(r'data-next="([^"]+)"', page).group(1)

    assert proposed() == "day 3"
    client.post(
        f"/api/qc-samples/{sample.code}/results",
        headers=bearer(client, "qc"),
        json={
            "test_code": "STER-AER",
            "value": "no growth",
            "reading": "day 3",
            "tested_at": utcnow().isoformat(),
        },
    ).raise_for_status()
    assert proposed() == "day 7"
