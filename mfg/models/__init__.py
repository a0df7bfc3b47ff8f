"""Every table of the application (the leaf layer). Importing this package registers them all.

The metadata carries a naming convention so that constraints have stable names in migrations on
SQLite (batch mode) and PostgreSQL alike.
"""

from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from mfg.models.audit import AuditEvent, AuditHead, AuditReview  # noqa: E402
from mfg.models.auth import LoginSession, LoginThrottle, Role, User  # noqa: E402
from mfg.models.base import as_utc, utcnow  # noqa: E402
from mfg.models.clinical import (  # noqa: E402
    TREATMENT_RELATED,
    AdverseEvent,
    Allocation,
    AllocationSlot,
    BedsideCheck,
    DoseOrder,
    Infusion,
    OrderStatus,
    Outcome,
    Patient,
    PatientStatus,
    Relation,
    Trial,
    TrialArm,
)
from mfg.models.donors import (  # noqa: E402
    Biopsy,
    BiopsyStatus,
    Donor,
    DonorStatus,
    EligibilityDetermination,
    MarkerOutcome,
    MarkerResult,
    MarkerSetVersion,
    ResultStatus,
)
from mfg.models.identifiers import AllocatedDin, DinSequence, LocalSequence  # noqa: E402
from mfg.models.labels import LabelPrint  # noqa: E402
from mfg.models.manufacturing import (  # noqa: E402
    Culture,
    CultureStatus,
    Dose,
    DoseStatus,
    Harvest,
    Lot,
    LotDoseCount,
    LotPassage,
    LotStatus,
    MaterialLot,
    MaterialStatus,
    MaterialUse,
    Passage,
    PoolMember,
)
from mfg.models.qc import (  # noqa: E402
    Deviation,
    DeviationStatus,
    QcResult,
    QcResultStatus,
    QcSample,
    SampleStatus,
    SpecStatus,
    SpecTest,
    SpecVersion,
)
from mfg.models.release import Decision, LookbackHold, ReleaseDecision  # noqa: E402
from mfg.models.signatures import Meaning, Signature  # noqa: E402
from mfg.models.system import Installation  # noqa: E402

metadata = SQLModel.metadata

__all__ = [
    "TREATMENT_RELATED",
    "AdverseEvent",
    "AllocatedDin",
    "Allocation",
    "AllocationSlot",
    "AuditEvent",
    "AuditHead",
    "AuditReview",
    "BedsideCheck",
    "Biopsy",
    "BiopsyStatus",
    "Culture",
    "CultureStatus",
    "Decision",
    "Deviation",
    "DeviationStatus",
    "DinSequence",
    "Donor",
    "DonorStatus",
    "Dose",
    "DoseOrder",
    "DoseStatus",
    "EligibilityDetermination",
    "Harvest",
    "Infusion",
    "Installation",
    "LabelPrint",
    "LocalSequence",
    "LoginSession",
    "LoginThrottle",
    "LookbackHold",
    "Lot",
    "LotDoseCount",
    "LotPassage",
    "LotStatus",
    "MarkerOutcome",
    "MarkerResult",
    "MarkerSetVersion",
    "MaterialLot",
    "MaterialStatus",
    "MaterialUse",
    "Meaning",
    "OrderStatus",
    "Outcome",
    "Passage",
    "Patient",
    "PatientStatus",
    "PoolMember",
    "QcResult",
    "QcResultStatus",
    "QcSample",
    "Relation",
    "ReleaseDecision",
    "ResultStatus",
    "Role",
    "SampleStatus",
    "Signature",
    "SpecStatus",
    "SpecTest",
    "SpecVersion",
    "Trial",
    "TrialArm",
    "User",
    "as_utc",
    "metadata",
    "utcnow",
]
