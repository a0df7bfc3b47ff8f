"""The one place where each kind of record registers how a scan finds it
(docs/architecture.md#scanning), how its label is built (labels issue) and what of it waits for whom
(the home page's worklist). Adding a record kind is a few lines here.
"""

from sqlmodel import Session, col

from mfg.accounts.scan import STAFF_PREFIX, badge_label, lookup_staff
from mfg.auth.permissions import Action
from mfg.clinical.orders import allocation_label
from mfg.clinical.outcomes import OUTCOME_DAY, outcomes_due
from mfg.clinical.patients import lookup_patient, wristband_label
from mfg.db import count_where
from mfg.deviations.service import lookup_deviation
from mfg.donors import biopsies
from mfg.donors.records import biopsy_label, lookup_biopsy, lookup_donor
from mfg.identifiers.resolve import Resolver, din_alone
from mfg.identifiers.scan import TokenKind
from mfg.labeling.service import LabelSources
from mfg.manufacturing.records import (
    culture_label,
    dose_label,
    lookup_culture,
    lookup_dose,
    lookup_lot,
    lookup_material,
    lookup_material_by_gs1,
    material_label,
)
from mfg.models import (
    Biopsy,
    BiopsyStatus,
    Culture,
    CultureStatus,
    Deviation,
    DeviationStatus,
    Donor,
    DonorStatus,
    Dose,
    DoseStatus,
    Lot,
    LotStatus,
    MarkerResult,
    MaterialLot,
    MaterialStatus,
    Patient,
    PatientStatus,
    QcResult,
    QcResultStatus,
    QcSample,
    ResultStatus,
    SampleStatus,
    User,
)
from mfg.qc.samples import lookup_sample, sample_label
from mfg.release.service import RELEASE_QUEUE
from mfg.web.worklist import Worklist


def build_resolver() -> Resolver:
    resolver = Resolver()
    resolver.on_prefix(STAFF_PREFIX, lookup_staff)
    resolver.on_prefix("DN", lookup_donor)
    resolver.on_token(TokenKind.DIN, lookup_biopsy, when=din_alone)
    resolver.on_prefix("ML", lookup_material)
    resolver.on_prefix("CV", lookup_culture)
    resolver.on_token(TokenKind.DIN, lookup_lot, when=din_alone)
    resolver.on_token(TokenKind.DIN, lookup_dose)
    resolver.on_token(TokenKind.GS1, lookup_material_by_gs1)
    resolver.on_prefix("QS", lookup_sample)
    resolver.on_prefix("DV", lookup_deviation)
    resolver.on_prefix("PT", lookup_patient)
    return resolver


def build_label_sources() -> LabelSources:
    sources = LabelSources()
    sources.register("badge", badge_label)
    sources.register("biopsy", biopsy_label)
    sources.register("material", material_label)
    sources.register("culture", culture_label)
    sources.register("dose", dose_label)
    sources.register("qc-sample", sample_label)
    sources.register("wristband", wristband_label)
    sources.register("allocation", allocation_label)
    return sources


def _count(model, *conditions):
    """A task's count: the rows of ``model`` matching ``conditions`` (a callable of the actor)."""

    def count(session: Session, actor: User) -> int:
        resolved = [c(actor) if callable(c) else c for c in conditions]
        return count_where(session, model, *resolved)

    return count


def _by_a_colleague(entered_by):
    """The condition that ``actor`` did not enter it: second-person verification."""
    return lambda actor: entered_by != actor.id


def build_worklist() -> Worklist:
    """What waits for each role, in the order of the process: donors, manufacturing, QC,
    deviations, release, the ward. A colleague's own entries are not theirs to verify."""
    w = Worklist()
    registered, collected, received = (
        DonorStatus.REGISTERED,
        BiopsyStatus.COLLECTED,
        BiopsyStatus.RECEIVED,
    )
    w.register(
        Action.DETERMINE_ELIGIBILITY,
        "Donors awaiting an eligibility decision",
        f"/donors?status={registered}",
        _count(Donor, Donor.status == registered),
    )
    w.register(
        Action.VERIFY_MARKER_RESULTS,
        "Donor marker results entered by a colleague, awaiting your verification",
        f"/donors?status={registered}",
        _count(
            MarkerResult,
            MarkerResult.status == ResultStatus.ENTERED,
            _by_a_colleague(MarkerResult.entered_by_id),
        ),
    )
    w.register(
        Action.RECEIVE_BIOPSIES,
        "Biopsies collected, awaiting receipt",
        f"/biopsies?status={collected}",
        _count(Biopsy, Biopsy.status == collected),
    )
    w.register(
        Action.DECIDE_MATERIALS,
        "Material lots in quarantine, awaiting a decision",
        f"/materials?status={MaterialStatus.QUARANTINED}",
        _count(MaterialLot, MaterialLot.status == MaterialStatus.QUARANTINED),
    )
    # A received biopsy awaits a culture only when one can start from it (culture_start_problems)
    w.register(
        Action.PERFORM_CULTURE_STEPS,
        "Biopsies received, awaiting a culture",
        f"/biopsies?status={received}",
        _count(Biopsy, *biopsies.ready_for_culture()),
    )
    w.register(
        Action.PERFORM_CULTURE_STEPS,
        "Biopsies received, in quarantine until their donor is found eligible",
        f"/biopsies?status={received}",
        _count(Biopsy, *biopsies.received_in_quarantine()),
    )
    w.register(
        Action.PERFORM_CULTURE_STEPS,
        "Biopsies received but on hold (donor ineligible): not to be cultured",
        f"/biopsies?status={received}",
        _count(Biopsy, *biopsies.received_on_hold()),
    )
    w.register(
        Action.PERFORM_CULTURE_STEPS,
        "Culture vessels in culture",
        f"/cultures?status={CultureStatus.IN_PROCESS}",
        _count(Culture, Culture.status == CultureStatus.IN_PROCESS),
    )
    w.register(
        Action.HARVEST_AND_FILL,
        "Lots in process: passages and harvest",
        f"/lots?status={LotStatus.IN_PROCESS}",
        _count(Lot, Lot.status == LotStatus.IN_PROCESS),
    )
    w.register(
        Action.HARVEST_AND_FILL,
        "Lots harvested, awaiting the fill into doses",
        f"/lots?status={LotStatus.HARVESTED}",
        _count(Lot, Lot.status == LotStatus.HARVESTED),
    )
    w.register(
        Action.ENTER_QC_RESULTS,
        "QC samples awaiting results",
        "/qc",
        _count(QcSample, QcSample.status == SampleStatus.AWAITING),
    )
    w.register(
        Action.VERIFY_QC_RESULTS,
        "QC results entered by a colleague, awaiting your verification",
        "/qc",
        _count(
            QcResult,
            QcResult.status == QcResultStatus.ENTERED,
            _by_a_colleague(QcResult.entered_by_id),
        ),
    )
    w.register(
        Action.OPEN_DEVIATIONS,
        "Open deviations, awaiting an investigation",
        f"/deviations?status={DeviationStatus.OPEN}",
        _count(Deviation, Deviation.status == DeviationStatus.OPEN),
    )
    w.register(
        Action.CLOSE_DEVIATIONS,
        "Investigated deviations, awaiting closure",
        f"/deviations?status={DeviationStatus.INVESTIGATED}",
        _count(Deviation, Deviation.status == DeviationStatus.INVESTIGATED),
    )
    w.register(
        Action.RELEASE_LOTS,
        "Lots awaiting a QA decision",
        "/release",
        _count(Lot, col(Lot.status).in_(RELEASE_QUEUE)),
    )
    w.register(
        Action.ALLOCATE_DOSES,
        "Doses allocated to a patient, awaiting issue to the ward",
        f"/doses?status={DoseStatus.ALLOCATED}",
        _count(Dose, Dose.status == DoseStatus.ALLOCATED),
    )
    w.register(
        Action.VERIFY_WEIGHT,
        "Patients whose weight awaits a colleague's verification",
        "/patients",
        _count(
            Patient,
            Patient.status == PatientStatus.ENROLLED,
            col(Patient.weight_verified_by_id).is_(None),
            _by_a_colleague(Patient.weight_entered_by_id),
        ),
    )
    w.register(
        Action.RECORD_CLINICAL,
        f"Patients past day {OUTCOME_DAY} without their outcome",
        "/patients",
        outcomes_due,
    )
    w.register(
        Action.BEDSIDE,
        "Doses issued to the ward, awaiting the bedside",
        f"/doses?status={DoseStatus.ISSUED}",
        _count(Dose, Dose.status == DoseStatus.ISSUED),
    )
    return w
