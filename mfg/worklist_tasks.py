"""What waits for whom: the home page's worklist tasks, in the order of the process (donors,
manufacturing, QC, deviations, release, the ward). Each task names the action a person must be
allowed to do, what is waiting, the page that lists it, and how to count it. A colleague's own
entries are not theirs to verify.
"""

from sqlmodel import Session, col

from mfg.auth.permissions import Action
from mfg.clinical.outcomes import OUTCOME_DAY, outcomes_due
from mfg.db import count_where
from mfg.donors import biopsies
from mfg.i18n import N_
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
from mfg.release.service import RELEASE_QUEUE
from mfg.web.worklist import Task, Worklist


def _count(model, *conditions):
    """A task's count: the rows of ``model`` matching ``conditions`` (a callable of the actor)."""

    def count(session: Session, actor: User) -> int:
        resolved = [c(actor) if callable(c) else c for c in conditions]
        return count_where(session, model, *resolved)

    return count


def _by_a_colleague(entered_by):
    """The condition that ``actor`` did not enter it: second-person verification."""
    return lambda actor: entered_by != actor.id


TASKS = (
    Task(
        Action.DETERMINE_ELIGIBILITY,
        N_("Donors awaiting an eligibility decision"),
        f"/donors?status={DonorStatus.REGISTERED}",
        _count(Donor, Donor.status == DonorStatus.REGISTERED),
    ),
    Task(
        Action.VERIFY_MARKER_RESULTS,
        N_("Donor marker results entered by a colleague, awaiting your verification"),
        f"/donors?status={DonorStatus.REGISTERED}",
        _count(
            MarkerResult,
            MarkerResult.status == ResultStatus.ENTERED,
            _by_a_colleague(MarkerResult.entered_by_id),
        ),
    ),
    Task(
        Action.RECEIVE_BIOPSIES,
        N_("Biopsies collected, awaiting receipt"),
        f"/biopsies?status={BiopsyStatus.COLLECTED}",
        _count(Biopsy, Biopsy.status == BiopsyStatus.COLLECTED),
    ),
    Task(
        Action.DECIDE_MATERIALS,
        N_("Material lots in quarantine, awaiting a decision"),
        f"/materials?status={MaterialStatus.QUARANTINED}",
        _count(MaterialLot, MaterialLot.status == MaterialStatus.QUARANTINED),
    ),
    # A received biopsy awaits a culture only when one can start from it (culture_start_problems)
    Task(
        Action.PERFORM_CULTURE_STEPS,
        N_("Biopsies received, awaiting a culture"),
        f"/biopsies?status={BiopsyStatus.RECEIVED}",
        _count(Biopsy, *biopsies.ready_for_culture()),
    ),
    Task(
        Action.PERFORM_CULTURE_STEPS,
        N_("Biopsies received, in quarantine until their donor is found eligible"),
        f"/biopsies?status={BiopsyStatus.RECEIVED}",
        _count(Biopsy, *biopsies.received_in_quarantine()),
    ),
    Task(
        Action.PERFORM_CULTURE_STEPS,
        N_("Biopsies received but on hold (donor ineligible): not to be cultured"),
        f"/biopsies?status={BiopsyStatus.RECEIVED}",
        _count(Biopsy, *biopsies.received_on_hold()),
    ),
    Task(
        Action.PERFORM_CULTURE_STEPS,
        N_("Culture vessels in culture"),
        f"/cultures?status={CultureStatus.IN_PROCESS}",
        _count(Culture, Culture.status == CultureStatus.IN_PROCESS),
    ),
    Task(
        Action.HARVEST_AND_FILL,
        N_("Lots in process: passages and harvest"),
        f"/lots?status={LotStatus.IN_PROCESS}",
        _count(Lot, Lot.status == LotStatus.IN_PROCESS),
    ),
    Task(
        Action.HARVEST_AND_FILL,
        N_("Lots harvested, awaiting the fill into doses"),
        f"/lots?status={LotStatus.HARVESTED}",
        _count(Lot, Lot.status == LotStatus.HARVESTED),
    ),
    Task(
        Action.ENTER_QC_RESULTS,
        N_("QC samples awaiting results"),
        "/qc",
        _count(QcSample, QcSample.status == SampleStatus.AWAITING),
    ),
    Task(
        Action.VERIFY_QC_RESULTS,
        N_("QC results entered by a colleague, awaiting your verification"),
        "/qc",
        _count(
            QcResult,
            QcResult.status == QcResultStatus.ENTERED,
            _by_a_colleague(QcResult.entered_by_id),
        ),
    ),
    Task(
        Action.OPEN_DEVIATIONS,
        N_("Open deviations, awaiting an investigation"),
        f"/deviations?status={DeviationStatus.OPEN}",
        _count(Deviation, Deviation.status == DeviationStatus.OPEN),
    ),
    Task(
        Action.CLOSE_DEVIATIONS,
        N_("Investigated deviations, awaiting closure"),
        f"/deviations?status={DeviationStatus.INVESTIGATED}",
        _count(Deviation, Deviation.status == DeviationStatus.INVESTIGATED),
    ),
    Task(
        Action.RELEASE_LOTS,
        N_("Lots awaiting a QA decision"),
        "/release",
        _count(Lot, col(Lot.status).in_(RELEASE_QUEUE)),
    ),
    Task(
        Action.ALLOCATE_DOSES,
        N_("Doses allocated to a patient, awaiting issue to the ward"),
        f"/doses?status={DoseStatus.ALLOCATED}",
        _count(Dose, Dose.status == DoseStatus.ALLOCATED),
    ),
    Task(
        Action.VERIFY_WEIGHT,
        N_("Patients whose weight awaits a colleague's verification"),
        "/patients",
        _count(
            Patient,
            Patient.status == PatientStatus.ENROLLED,
            col(Patient.weight_verified_by_id).is_(None),
            _by_a_colleague(Patient.weight_entered_by_id),
        ),
    ),
    Task(
        Action.RECORD_CLINICAL,
        N_("Patients past day %(day)s without their outcome"),
        "/patients",
        outcomes_due,
        {"day": OUTCOME_DAY},
    ),
    Task(
        Action.BEDSIDE,
        N_("Doses issued to the ward, awaiting the bedside"),
        f"/doses?status={DoseStatus.ISSUED}",
        _count(Dose, Dose.status == DoseStatus.ISSUED),
    ),
)


def build_worklist() -> Worklist:
    return Worklist(TASKS)
