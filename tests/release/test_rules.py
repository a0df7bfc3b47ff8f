"""The release guards one by one, each alone with facts that pass and facts that block, on both
sides of each bound (the guards are pure: no database). The tests through the service, with a
real lot, are in test_release.py."""

from __future__ import annotations

import dataclasses
import sys
from datetime import UTC, datetime, timedelta

import pytest

from mfg.models import (
    Deviation,
    Donor,
    DonorStatus,
    Dose,
    Harvest,
    Lot,
    LotStatus,
    QcResult,
    SpecTest,
    SpecVersion,
)
from mfg.qc import summary
from mfg.qc.summary import AWAITING_VERIFICATION, FAIL, MISSING, PASS, LotQc
from mfg.release import rules
from mfg.release.rules import (
    GUARDS,
    ReleaseFacts,
    completion_blocking,
    conditional_release_blocking,
    deviation_blocking,
    donor_blocking,
    expiry_blocking,
    independence_blocking,
    label_blocking,
    limit_blocking,
    lot_status_blocking,
    release_blocking,
    signature_blocking,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
RELEASER = 99
MAX_PASSAGE, MAX_PD = 5, 20.0


def spec_test(code: str, *, stage: str = "release", required: bool = True) -> SpecTest:
    return SpecTest(code=code, name=code, kind="categorical", stage=stage, required=required)


def standing(code: str, state: str = PASS, **test) -> summary.TestStanding:
    return summary.TestStanding(test=spec_test(code, **test), limit="no growth", state=state)


def preliminary(verdict: str) -> QcResult:
    return QcResult(test_code="STER-AER", reading="day 7", verdict=verdict, entered_value="x")


def harvest(passage: int = MAX_PASSAGE, cumulative_pd: float | None = MAX_PD) -> Harvest:
    return Harvest(passage_number=passage, cumulative_pd=cumulative_pd, harvested_cells=1)


def dose(division: str = "A0", *, expires: timedelta = timedelta(days=1), labelled=True) -> Dose:
    return Dose(
        division=division,
        expires_at=NOW + expires,
        label_verified_at=NOW if labelled else None,
        cells=1,
    )


def facts(**changes) -> ReleaseFacts:
    """A lot every guard lets through, with ``changes``."""
    passing = ReleaseFacts(
        lot=Lot(din="A999926000001", status=LotStatus.QUARANTINE),
        donors=[Donor(code="DN0000001", status=DonorStatus.ELIGIBLE)],
        qc=LotQc(
            spec=SpecVersion(version=1, title="MSC"),
            rows=[standing("STER-AER"), standing("STER-ANA"), standing("GRAM")],
        ),
        open_deviations=[],
        unsigned_steps=[],
        harvest=harvest(),
        max_passage=MAX_PASSAGE,
        max_cumulative_pd=MAX_PD,
        doses=[dose()],
        now=NOW,
        releaser_id=RELEASER,
        participants={1: ["signed a manufacturing step"], 2: ["entered GRAM"]},
    )
    return dataclasses.replace(passing, **changes)


def codes(found) -> list[str]:
    return [reason.code for reason in found]


def test_the_passing_facts_pass_every_release_guard() -> None:
    assert release_blocking(facts()) == []


# --- lot_status_blocking ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (status, [] if status == LotStatus.QUARANTINE else ["lot_not_in_quarantine"])
        for status in LotStatus
    ],
)
def test_lot_status_blocking_releases_only_a_lot_in_quarantine(status, expected) -> None:
    lot = Lot(din="A999926000001", status=status)
    assert codes(lot_status_blocking(facts(lot=lot))) == expected


# --- donor_blocking ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([DonorStatus.ELIGIBLE], []),
        ([DonorStatus.ELIGIBLE, DonorStatus.ELIGIBLE], []),
        ([DonorStatus.REGISTERED], ["donor_not_eligible"]),
        ([DonorStatus.INELIGIBLE], ["donor_not_eligible"]),
        ([DonorStatus.ELIGIBLE, DonorStatus.INELIGIBLE], ["donor_not_eligible"]),
        ([DonorStatus.REGISTERED, DonorStatus.INELIGIBLE], ["donor_not_eligible"] * 2),
    ],
)
def test_donor_blocking_needs_every_donor_eligible(statuses, expected) -> None:
    donors = [Donor(code=f"DN000000{i}", status=s) for i, s in enumerate(statuses)]
    assert codes(donor_blocking(facts(donors=donors))) == expected


# --- test_blocking ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (standing("ENDO", PASS), []),
        (standing("ENDO", MISSING), ["test_missing"]),
        (standing("ENDO", AWAITING_VERIFICATION), ["test_missing"]),
        (standing("ENDO", FAIL), ["result_out_of_specification"]),
        (standing("KARYO", MISSING, required=False), []),  # not required for release
        (standing("VIAB", FAIL, stage="in_process"), []),  # in process: judged at the step
        (standing("KARYO", FAIL, stage="characterisation"), ["result_out_of_specification"]),
    ],
)
def test_test_blocking_needs_each_required_test_verified_and_in_specification(
    row, expected
) -> None:
    qc = LotQc(spec=SpecVersion(version=1, title="MSC"), rows=[row])
    assert codes(rules.test_blocking(facts(qc=qc))) == expected


def test_test_blocking_says_which_test_and_why() -> None:
    qc = LotQc(spec=SpecVersion(version=1, title="MSC"), rows=[standing("ENDO", FAIL)])
    (reason,) = rules.test_blocking(facts(qc=qc))
    assert (
        reason.conflict and "ENDO" in reason.message and "out of specification" in (reason.message)
    )


# --- deviation_blocking -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("open_deviations", "expected"),
    [
        ([], []),
        ([Deviation(code="DV0000001", status="open", title="Low viability")], ["open_deviation"]),
        (
            [
                Deviation(code="DV0000001", status="open", title="a"),
                Deviation(code="DV0000002", status="investigating", title="b"),
            ],
            ["open_deviation", "open_deviation"],
        ),
    ],
)
def test_deviation_blocking_refuses_while_a_deviation_is_open(open_deviations, expected) -> None:
    assert codes(deviation_blocking(facts(open_deviations=open_deviations))) == expected


# --- signature_blocking -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unsigned", "expected"),
    [([], []), (["harvest of lot A9999"], ["step_unsigned"]), (["a", "b"], ["step_unsigned"] * 2)],
)
def test_signature_blocking_needs_every_step_validly_signed(unsigned, expected) -> None:
    assert codes(signature_blocking(facts(unsigned_steps=unsigned))) == expected


# --- limit_blocking: the passage and cumulative-PD limits -------------------------------------


@pytest.mark.parametrize(
    ("passage", "cumulative", "expected"),
    [
        (MAX_PASSAGE - 1, MAX_PD - 1, []),
        (MAX_PASSAGE, MAX_PD, []),  # at the limits: allowed
        (MAX_PASSAGE + 1, MAX_PD, ["limit_exceeded"]),
        (MAX_PASSAGE, MAX_PD + 0.01, ["limit_exceeded"]),
        (MAX_PASSAGE, MAX_PD - 0.01, []),
        (MAX_PASSAGE, None, []),  # an explant's PD is not known
        (MAX_PASSAGE + 1, MAX_PD + 0.01, ["limit_exceeded", "limit_exceeded"]),
    ],
)
def test_limit_blocking_at_below_and_above_the_passage_and_pd_limits(
    passage, cumulative, expected
) -> None:
    assert codes(limit_blocking(facts(harvest=harvest(passage, cumulative)))) == expected


def test_limit_blocking_refuses_a_lot_without_a_harvest() -> None:
    assert codes(limit_blocking(facts(harvest=None))) == ["not_harvested"]


# --- expiry_blocking --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "expected"),
    [
        (timedelta(days=30), []),
        (timedelta(seconds=1), []),
        (timedelta(0), ["lot_expired"]),  # expiring at the moment of release: expired
        (-timedelta(seconds=1), ["lot_expired"]),
    ],
)
def test_expiry_blocking_on_both_sides_of_the_expiry(expires, expected) -> None:
    assert codes(expiry_blocking(facts(doses=[dose(expires=expires)]))) == expected


def test_expiry_blocking_counts_the_expired_doses_and_names_the_first() -> None:
    doses = [dose("A0", expires=-timedelta(days=2)), dose("B0", expires=-timedelta(days=1))]
    (reason,) = expiry_blocking(facts(doses=doses))
    assert reason.message == "2 doses expired (first on 2026-11-29)."


def test_expiry_blocking_refuses_a_lot_without_doses() -> None:
    assert codes(expiry_blocking(facts(doses=[]))) == ["no_doses"]


# --- label_blocking ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labelled", "expected"),
    [
        ([True], []),
        ([True, True], []),
        ([False], ["labels_not_verified"]),
        ([True, False], ["labels_not_verified"]),
    ],
)
def test_label_blocking_needs_every_label_scanned_back(labelled, expected) -> None:
    doses = [dose(f"{chr(65 + i)}0", labelled=ok) for i, ok in enumerate(labelled)]
    assert codes(label_blocking(facts(doses=doses))) == expected


# --- independence_blocking --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("participants", "expected"),
    [
        ({}, []),
        ({1: ["signed a manufacturing step"]}, []),
        ({RELEASER: ["entered ENDO"]}, ["releaser_took_part"]),
        ({RELEASER: ["took sample QS0000001", "verified GRAM"]}, ["releaser_took_part"]),
    ],
)
def test_independence_blocking_refuses_a_releaser_who_took_part(participants, expected) -> None:
    found = independence_blocking(facts(participants=participants))
    assert codes(found) == expected
    assert all(not reason.conflict for reason in found)  # the request's fault: 422


# --- conditional_release_blocking -------------------------------------------------------------


def sterility_pending(*, prelim=(PASS,), gram: str | None = PASS) -> LotQc:
    aer = standing("STER-AER", MISSING)
    aer.preliminary = [preliminary(v) for v in prelim]
    ana = standing("STER-ANA", MISSING)
    ana.preliminary = [preliminary(PASS)]
    rows = [aer, ana] + ([standing("GRAM", gram)] if gram else [])
    return LotQc(spec=SpecVersion(version=1, title="MSC"), rows=rows)


@pytest.mark.parametrize(
    ("qc", "expected"),
    [
        (sterility_pending(), []),
        (sterility_pending(prelim=()), ["preliminary_sterility_missing"]),
        (sterility_pending(prelim=(PASS, FAIL)), ["preliminary_sterility_missing"]),
        (sterility_pending(gram=MISSING), ["gram_stain_missing", "test_missing"]),
        (sterility_pending(gram=FAIL), ["gram_stain_missing", "result_out_of_specification"]),
        (sterility_pending(gram=None), ["gram_stain_missing"]),
        (facts().qc, ["conditional_not_applicable"]),  # sterility is in: release it fully
    ],
)
def test_conditional_release_blocking_only_while_sterility_is_pending(qc, expected) -> None:
    assert codes(conditional_release_blocking(facts(qc=qc))) == expected


def test_conditional_release_blocking_keeps_every_other_release_guard() -> None:
    found = conditional_release_blocking(facts(qc=sterility_pending(), unsigned_steps=["fill"]))
    assert codes(found) == ["step_unsigned"]


# --- the table of guards ----------------------------------------------------------------------


def test_release_blocking_asks_every_guard_of_the_table() -> None:
    blocked = facts(
        lot=Lot(din="A999926000001", status=LotStatus.HARVESTED),
        open_deviations=[Deviation(code="DV0000001", status="open", title="a")],
        unsigned_steps=["fill"],
        participants={RELEASER: ["entered ENDO"]},
    )
    assert codes(release_blocking(blocked)) == [
        "lot_not_in_quarantine",
        "open_deviation",
        "step_unsigned",
        "releaser_took_part",
    ]


def test_every_release_guard_has_a_test_named_after_it() -> None:
    tests = [name for name in dir(sys.modules[__name__]) if name.startswith("test_")]
    for guard in (*GUARDS, rules.conditional_release_blocking):
        assert any(guard.__name__ in name for name in tests), guard.__name__


# --- release_blocking and completion_blocking -------------------------------------------------


def test_release_blocking_gathers_what_each_guard_blocks() -> None:
    blocked = facts(
        donors=[Donor(code="DN0000002", status=DonorStatus.INELIGIBLE)],
        doses=[dose(expires=timedelta(seconds=-1))],
    )
    assert codes(release_blocking(blocked)) == ["donor_not_eligible", "lot_expired"]


def test_completion_blocking_sets_the_lot_status_aside_but_nothing_else() -> None:
    released = facts(lot=Lot(din="A999926000001", status=LotStatus.CONDITIONALLY_RELEASED))
    assert codes(release_blocking(released)) == ["lot_not_in_quarantine"]
    assert completion_blocking(released) == []
    pending = dataclasses.replace(released, open_deviations=[Deviation(code="DV0000001")])
    assert codes(completion_blocking(pending)) == ["open_deviation"]
