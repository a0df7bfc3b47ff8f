"""The one place that says which role may perform which action. Services call ``authorize``."""

from enum import StrEnum

from mfg.errors import NotAuthenticated, PermissionDenied
from mfg.models import Role, User


class Action(StrEnum):
    MANAGE_USERS = "manage users"
    VIEW_AUDIT_TRAIL = "view the audit trail"
    VERIFY_AUDIT_TRAIL = "verify the audit trail"
    REVIEW_AUDIT_TRAIL = "sign an audit-trail review"
    EXPORT_AUDIT_TRAIL = "export the audit trail"
    PRINT_LABELS = "print labels"
    VIEW_DONORS = "view donors and biopsies"
    REGISTER_DONORS = "register donors and record consent and screening"
    ENTER_MARKER_RESULTS = "enter donor marker results"
    VERIFY_MARKER_RESULTS = "verify donor marker results"
    DETERMINE_ELIGIBILITY = "sign donor eligibility"
    MANAGE_MARKER_SET = "change the required marker set"
    REGISTER_BIOPSIES = "register biopsies"
    RECEIVE_BIOPSIES = "receive biopsies"
    VIEW_MANUFACTURING = "view manufacturing records"
    REGISTER_MATERIALS = "register material lots"
    DECIDE_MATERIALS = "release or reject material lots"
    PERFORM_CULTURE_STEPS = "start cultures and record passages"
    POOL_CULTURES = "pool cultures into a lot"
    HARVEST_AND_FILL = "harvest, formulate and fill lots into doses"
    STORE_DOSES = "cryopreserve and store doses"
    THAW_DOSES = "thaw doses"
    VIEW_DOSES = "view doses"
    VERIFY_LABELS = "check printed labels against their records"
    VIEW_QC = "view specifications, QC samples, results and deviations"
    MANAGE_SPECIFICATIONS = "draft and approve specifications"
    TAKE_SAMPLES = "take QC samples"
    ENTER_QC_RESULTS = "enter QC results"
    VERIFY_QC_RESULTS = "verify QC results"
    INVALIDATE_QC_RESULTS = "invalidate QC results"
    OPEN_DEVIATIONS = "open and investigate deviations"
    CLOSE_DEVIATIONS = "close deviations"
    VIEW_RELEASE = "view release checks and certificates"
    VIEW_CLINICAL = "view trial patients, orders, infusions and outcomes"
    ENROL_PATIENTS = "enrol trial patients"
    VERIFY_WEIGHT = "verify a patient's weight"
    ORDER_DOSES = "prescribe doses"
    ALLOCATE_DOSES = "allocate and issue doses"
    BEDSIDE = "check and infuse doses at the bedside"
    RECORD_CLINICAL = "record adverse events and outcomes"
    MANAGE_TRIALS = "load a trial's concealed allocation list"
    RELEASE_LOTS = "release, reject, hold and recall lots"
    VIEW_LABEL_LAYOUTS = "view label layouts"
    EXPORT_FHIR = "export doses, lots and patients as FHIR bundles"


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.MANAGE_USERS: frozenset({Role.ADMIN}),
    Action.VIEW_AUDIT_TRAIL: frozenset({Role.QA, Role.ADMIN}),
    Action.VERIFY_AUDIT_TRAIL: frozenset({Role.QA, Role.ADMIN}),
    Action.REVIEW_AUDIT_TRAIL: frozenset({Role.QA}),
    Action.EXPORT_AUDIT_TRAIL: frozenset({Role.QA, Role.ADMIN}),
    Action.PRINT_LABELS: frozenset({Role.TECHNICIAN, Role.QC, Role.QA, Role.CLINICIAN, Role.ADMIN}),
    Action.VIEW_LABEL_LAYOUTS: frozenset(Role),
    Action.VIEW_DONORS: frozenset({Role.TECHNICIAN, Role.QC, Role.QA, Role.ADMIN}),
    Action.REGISTER_DONORS: frozenset({Role.TECHNICIAN, Role.QA}),
    Action.ENTER_MARKER_RESULTS: frozenset({Role.TECHNICIAN, Role.QC}),
    Action.VERIFY_MARKER_RESULTS: frozenset({Role.TECHNICIAN, Role.QC, Role.QA}),
    Action.DETERMINE_ELIGIBILITY: frozenset({Role.QA}),
    Action.MANAGE_MARKER_SET: frozenset({Role.QA}),
    Action.REGISTER_BIOPSIES: frozenset({Role.TECHNICIAN}),
    Action.RECEIVE_BIOPSIES: frozenset({Role.TECHNICIAN}),
    Action.VIEW_MANUFACTURING: frozenset({Role.TECHNICIAN, Role.QC, Role.QA, Role.ADMIN}),
    Action.REGISTER_MATERIALS: frozenset({Role.TECHNICIAN}),
    Action.DECIDE_MATERIALS: frozenset({Role.QA}),
    Action.PERFORM_CULTURE_STEPS: frozenset({Role.TECHNICIAN}),
    Action.POOL_CULTURES: frozenset({Role.TECHNICIAN}),
    Action.HARVEST_AND_FILL: frozenset({Role.TECHNICIAN}),
    Action.STORE_DOSES: frozenset({Role.TECHNICIAN}),
    Action.THAW_DOSES: frozenset({Role.TECHNICIAN, Role.CLINICIAN}),
    Action.VIEW_DOSES: frozenset({Role.TECHNICIAN, Role.QC, Role.QA, Role.CLINICIAN, Role.ADMIN}),
    Action.VERIFY_LABELS: frozenset({Role.TECHNICIAN, Role.QC, Role.QA}),
    Action.VIEW_QC: frozenset({Role.TECHNICIAN, Role.QC, Role.QA, Role.ADMIN}),
    Action.VIEW_RELEASE: frozenset({Role.TECHNICIAN, Role.QC, Role.QA, Role.ADMIN}),
    Action.VIEW_CLINICAL: frozenset({Role.CLINICIAN, Role.TECHNICIAN, Role.QA, Role.ADMIN}),
    # A Bundle joins product and (pseudonymous) clinical records: for those who see both sides.
    Action.EXPORT_FHIR: frozenset({Role.CLINICIAN, Role.TECHNICIAN, Role.QA, Role.ADMIN}),
    Action.ENROL_PATIENTS: frozenset({Role.CLINICIAN}),
    Action.VERIFY_WEIGHT: frozenset({Role.CLINICIAN}),
    Action.ORDER_DOSES: frozenset({Role.CLINICIAN}),
    Action.ALLOCATE_DOSES: frozenset({Role.TECHNICIAN}),
    Action.BEDSIDE: frozenset({Role.CLINICIAN}),
    Action.RECORD_CLINICAL: frozenset({Role.CLINICIAN}),
    Action.MANAGE_TRIALS: frozenset({Role.QA}),
    Action.RELEASE_LOTS: frozenset({Role.QA}),
    Action.MANAGE_SPECIFICATIONS: frozenset({Role.QA}),
    Action.TAKE_SAMPLES: frozenset({Role.TECHNICIAN, Role.QC}),
    Action.ENTER_QC_RESULTS: frozenset({Role.QC}),
    Action.VERIFY_QC_RESULTS: frozenset({Role.QC}),
    Action.INVALIDATE_QC_RESULTS: frozenset({Role.QC, Role.QA}),
    Action.OPEN_DEVIATIONS: frozenset({Role.TECHNICIAN, Role.QC, Role.QA}),
    Action.CLOSE_DEVIATIONS: frozenset({Role.QA}),
}


def allowed_roles(action: Action) -> frozenset[Role]:
    return PERMISSIONS[action]


def may(user: User | None, action: Action) -> bool:
    return user is not None and user.active and bool(user.role_set & PERMISSIONS[action])


def authorize(user: User | None, action: Action) -> User:
    """Refuse unless ``user`` is logged in, active, and holds a role allowed to do ``action``."""
    if user is None:
        raise NotAuthenticated()
    if not may(user, action):
        roles = ", ".join(sorted(r.value for r in PERMISSIONS[action]))
        raise PermissionDenied(
            f"Your role does not allow you to {action.value} (allowed: {roles}).",
            details={
                "action": action.value,
                "allowed_roles": sorted(r.value for r in PERMISSIONS[action]),
            },
        )
    return user
