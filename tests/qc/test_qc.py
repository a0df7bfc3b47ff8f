"""Specifications, samples, results with second-person verification, deviations."""

import pytest
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from mfg.db import unit_of_work
from mfg.deviations import service as deviations
from mfg.deviations.schemas import DeviationIn
from mfg.errors import Conflict, InvalidInput, NotFound, RuleViolation
from mfg.models import (
    Deviation,
    DeviationStatus,
    Lot,
    QcResultStatus,
    QcSample,
    SampleStatus,
    SpecStatus,
    User,
)
from mfg.qc import results, specs
from mfg.qc.summary import MISSING, PASS, lot_qc
from tests.audit.tamper import execute
from tests.factories import PASSWORD
from tests.manufacturing.factories import filled_lot, pooled_lot
from tests.qc.factories import enter, entered_and_verified, lot_sample, verify
from tests.races import race


def test_the_default_specification_is_installed_approved_and_recorded_on_each_new_lot(
    lab, engine
) -> None:
    with Session(engine) as session:
        spec = specs.in_force(session)
        codes = [t.code for t in specs.tests_of(session, spec)]
    assert spec.version == 1 and spec.status == SpecStatus.APPROVED
    assert {"VIAB", "CD73", "CD90", "CD105", "STER-AER", "MYCO", "ENDO", "KARYO"} <= set(codes)
    assert pooled_lot(lab).spec_version == 1


def _draft_with_viability_minimum(lab, minimum: float):
    def work(s, a):
        current = specs.in_force(s)
        tests = [specs.as_dict(t) for t in specs.tests_of(s, current)]
        for t in tests:
            if t["code"] == "VIAB":
                t["min"] = minimum
        return specs.create_draft(s, actor=a, title="Raised viability", note="CC-12", tests=tests)

    return lab.run("qa", work)


def _approve(lab, version: int):
    return lab.run(
        "qa",
        lambda s, a: specs.approve(s, actor=a, spec=specs.get_spec(s, version), password=PASSWORD),
    )


def test_an_approved_specification_cannot_be_changed(lab, engine) -> None:
    with pytest.raises(DatabaseError, match="append-only"):
        execute(engine, "UPDATE spec_test SET min_value = 50 WHERE code = 'VIAB'")
    with pytest.raises(DatabaseError, match="append-only"):
        execute(engine, "DELETE FROM spec_test WHERE code = 'VIAB'")
    with pytest.raises(RuleViolation, match="approved cannot become approved"):
        _approve(lab, 1)


def test_a_new_version_does_not_change_lots_already_started(lab, engine) -> None:
    started = pooled_lot(lab)
    draft = _draft_with_viability_minimum(lab, 80)
    assert draft.status == SpecStatus.DRAFT
    assert pooled_lot(lab).spec_version == 1  # a draft is not in force
    _approve(lab, draft.version)
    later = pooled_lot(lab)
    assert (started.spec_version, later.spec_version) == (1, 2)
    early_viability = entered_and_verified(lab, lot_sample(lab, started, "VIAB"), "VIAB", "75")
    late_viability = enter(lab, lot_sample(lab, later, "VIAB"), "VIAB", "75")
    assert early_viability.verdict == "pass" and early_viability.limit_text == "≥ 70 %"
    assert late_viability.verdict == "fail" and late_viability.limit_text == "≥ 80 %"
    with Session(engine) as session:
        assert specs.get_spec(session, 1).status == SpecStatus.SUPERSEDED


def test_a_sample_is_refused_a_test_its_specification_does_not_have(lab) -> None:
    lot = pooled_lot(lab)
    with pytest.raises(NotFound, match="has no test XYZ"):
        lot_sample(lab, lot, "VIAB", "XYZ")


def test_the_entering_user_cannot_verify(lab) -> None:
    result = enter(lab, lot_sample(lab, pooled_lot(lab), "VIAB"), "VIAB", "91")
    with pytest.raises(RuleViolation, match="second analyst"):
        verify(lab, result, role="qc")
    assert verify(lab, result).status == QcResultStatus.VERIFIED


def test_an_invalidated_result_no_longer_counts(lab, engine) -> None:
    lot = pooled_lot(lab)
    sample = lot_sample(lab, lot, "MYCO")
    result = entered_and_verified(lab, sample, "MYCO", "not detected")
    with Session(engine) as session:
        assert session.get(QcSample, sample.id).status == SampleStatus.COMPLETE
        standing = next(
            r for r in lot_qc(session, session.get(Lot, lot.id)).rows if r.test.code == "MYCO"
        )
        assert standing.state == PASS
    with pytest.raises(RuleViolation, match="invalidate it"):
        enter(lab, sample, "MYCO", "not detected")
    lab.run(
        "qc",
        lambda s, a: results.invalidate_result(
            s, actor=a, result=results.get_result(s, result.id), reason="wrong sample tube"
        ),
    )
    with Session(engine) as session:
        assert session.get(QcSample, sample.id).status == SampleStatus.AWAITING
        standing = next(
            r for r in lot_qc(session, session.get(Lot, lot.id)).rows if r.test.code == "MYCO"
        )
        assert standing.state == MISSING
    again = enter(lab, sample, "MYCO", "not detected")  # the re-test can now be entered
    assert again.status == QcResultStatus.ENTERED


def test_a_failing_verified_result_opens_a_deviation(lab, engine) -> None:
    lot, _ = filled_lot(lab)
    result = enter(lab, lot_sample(lab, lot, "ENDO"), "ENDO", "0.8", unit="EU/mL")
    assert result.verdict == "fail"
    with Session(engine) as session:
        assert session.exec(select(Deviation)).first() is None  # not before verification
    verify(lab, result)
    with Session(engine) as session:
        deviation = session.exec(select(Deviation).where(Deviation.lot_id == lot.id)).one()
    assert deviation.status == DeviationStatus.OPEN and deviation.result_id == result.id
    assert "0.8 EU/mL" in deviation.description and "< 0.5 EU/mL" in deviation.description


def test_a_deviation_is_investigated_then_closed_with_a_qa_signature(lab, engine) -> None:
    lot = pooled_lot(lab)
    opened = lab.run(
        "technician",
        lambda s, a: deviations.open_deviation(
            s,
            actor=a,
            command=DeviationIn(
                title="Incubator alarm",
                description="CO2 at 3.1 % for 40 min",
                entity_type="lot",
                entity_id=lot.din,
            ),
            lot=s.get(Lot, lot.id),
        ),
    )
    with pytest.raises(RuleViolation, match="open cannot become closed"):
        lab.run(
            "qa",
            lambda s, a: deviations.close(
                s, actor=a, deviation=deviations.get_deviation(s, opened.code), password=PASSWORD
            ),
        )
    with pytest.raises(RuleViolation, match="root cause"):
        lab.run(
            "qc",
            lambda s, a: deviations.investigate(
                s,
                actor=a,
                deviation=deviations.get_deviation(s, opened.code),
                impact_assessment="None: cells within limits",
                root_cause="",
                corrective_action="Sensor recalibrated",
            ),
        )
    lab.run(
        "qc",
        lambda s, a: deviations.investigate(
            s,
            actor=a,
            deviation=deviations.get_deviation(s, opened.code),
            impact_assessment="None: cells within limits",
            root_cause="CO2 sensor drift",
            corrective_action="Sensor recalibrated",
        ),
    )
    closed = lab.run(
        "qa",
        lambda s, a: deviations.close(
            s, actor=a, deviation=deviations.get_deviation(s, opened.code), password=PASSWORD
        ),
    )
    assert closed.status == DeviationStatus.CLOSED
    with Session(engine) as session:
        assert deviations.open_deviations_of_lot(session, session.get(Lot, lot.id)) == []


def test_a_result_in_the_wrong_unit_is_refused_at_entry(lab) -> None:
    sample = lot_sample(lab, pooled_lot(lab), "ENDO")
    with pytest.raises(InvalidInput, match="not EU/kg"):
        enter(lab, sample, "ENDO", "0.2", unit="EU/kg")


def test_two_analysts_verifying_the_same_result_at_once_cannot_both_win(
    lab, engine, settings
) -> None:
    result = enter(lab, lot_sample(lab, pooled_lot(lab), "VIAB"), "VIAB", "91")
    from tests.factories import add_user

    third = add_user(engine, settings, "qc-3", "qc")

    def work(session: Session, actor: User) -> None:
        stale = results.get_result(session, result.id)
        results.verify_result(session, actor=actor, result=stale)

    outcomes = race(engine, settings, (lab.users["qc-2"], third), work)
    assert outcomes.count("ok") == 1, outcomes
    assert isinstance(next(o for o in outcomes if o != "ok"), Conflict | RuleViolation)


def test_the_sample_label_scans_back_to_the_sample_code(lab, engine, settings) -> None:
    from mfg.labeling.service import print_label
    from mfg.record_kinds import build_label_sources
    from tests.labeling.helpers import decoded

    sample = lot_sample(lab, pooled_lot(lab), "MYCO", "ENDO")
    with unit_of_work(engine, settings=settings) as session:
        printed = print_label(
            session,
            actor=session.get(User, lab.users["technician"].id),
            sources=build_label_sources(),
            kind="qc-sample",
            identifier=sample.code,
        )
    assert decoded(printed.content)[0] == [sample.code]


def test_test_codes_typed_under_a_russian_layout_are_read_as_the_latin_codes(lab) -> None:
    # "VIAB", "STER-AER" and "myco" typed with the ЙЦУКЕН layout active
    sample = lot_sample(lab, pooled_lot(lab), "МШФИ", "ЫЕУК-ФУК", "ьнсщ", "VIAB")
    assert sample.tests == "VIAB|STER-AER|MYCO"


def test_a_sample_source_typed_as_its_label_prints_it_names_that_record_never_its_lot(lab) -> None:
    """A dose typed with its DIN's check character is the dose, not its lot; a lot typed with its
    check character is the lot; a wrong check character is refused as such."""
    from mfg.identifiers.errors import BadCheckCharacter
    from mfg.identifiers.isbt128 import ALPHABET, Din
    from tests.qc.factories import sample_of

    lot, filled = filled_lot(lab, count=1)
    din = Din.parse(lot.din)
    typed_dose = f"{din.eye_readable} {din.check} {filled[0].product_code}"
    of_dose = sample_of(lab, typed_dose, "STER-AER")
    assert (of_dose.source_type, of_dose.source_identifier) == ("dose", filled[0].identifier)
    of_lot = sample_of(lab, f"{din.eye_readable} {din.check}", "STER-AER")
    assert (of_lot.source_type, of_lot.source_identifier) == ("lot", lot.din)
    wrong = next(k for k in ALPHABET if k != din.check)
    with pytest.raises(BadCheckCharacter):
        sample_of(lab, f"{din.eye_readable} {wrong} {filled[0].product_code}", "STER-AER")
