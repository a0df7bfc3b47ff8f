"""The one place that says which role may perform which action. Services call ``authorize``."""

from enum import StrEnum

from mfg.errors import NotAuthenticated, PermissionDenied
from mfg.i18n import N_
from mfg.models import Role, User


class Action(StrEnum):
    MANAGE_USERS = N_("manage users")
    VIEW_AUDIT_TRAIL = N_("view the audit trail")
    VERIFY_AUDIT_TRAIL = N_("verify the audit trail")
    REVIEW_AUDIT_TRAIL = N_("sign an audit-trail review")
    EXPORT_AUDIT_TRAIL = N_("export the audit trail")
    PRINT_LABELS = N_("print labels")
    VIEW_DONORS = N_("view donors and biopsies")
    REGISTER_DONORS = N_("register donors and record consent and screening")
    ENTER_MARKER_RESULTS = N_("enter donor marker results")
    VERIFY_MARKER_RESULTS = N_("verify donor marker results")
    DETERMINE_ELIGIBILITY = N_("sign donor eligibility")
    MANAGE_MARKER_SET = N_("change the required marker set")
    REGISTER_BIOPSIES = N_("register biopsies")
    RECEIVE_BIOPSIES = N_("receive biopsies")
    VIEW_MANUFACTURING = N_("view manufacturing records")
    REGISTER_MATERIALS = N_("register material lots")
    DECIDE_MATERIALS = N_("release or reject material lots")
    PERFORM_CULTURE_STEPS = N_("start cultures and record passages")
    POOL_CULTURES = N_("pool cultures into a lot")
    HARVEST_AND_FILL = N_("harvest, formulate and fill lots into doses")
    STORE_DOSES = N_("cryopreserve and store doses")
    THAW_DOSES = N_("thaw doses")
    VIEW_DOSES = N_("view doses")
    VERIFY_LABELS = N_("check printed labels against their records")
    VIEW_QC = N_("view specifications, QC samples, results and deviations")
    MANAGE_SPECIFICATIONS = N_("draft and approve specifications")
    TAKE_SAMPLES = N_("take QC samples")
    ENTER_QC_RESULTS = N_("enter QC results")
    VERIFY_QC_RESULTS = N_("verify QC results")
    INVALIDATE_QC_RESULTS = N_("invalidate QC results")
    OPEN_DEVIATIONS = N_("open and investigate deviations")
    CLOSE_DEVIATIONS = N_("close deviations")
    VIEW_RELEASE = N_("view release checks and certificates")
    VIEW_CLINICAL = N_("view trial patients, orders, infusions and outcomes")
    ENROL_PATIENTS = N_("enrol trial patients")
    VERIFY_WEIGHT = N_("verify a patient's weight")
    ORDER_DOSES = N_("prescribe doses")
    ALLOCATE_DOSES = N_("allocate and issue doses")
    BEDSIDE = N_("check and infuse doses at the bedside")
    RECORD_CLINICAL = N_("record adverse events and outcomes")
    MANAGE_TRIALS = N_("load a trial's concealed allocation list")
    RELEASE_LOTS = N_("release, reject, hold and recall lots")
    VIEW_LABEL_LAYOUTS = N_("view label layouts")
    EXPORT_FHIR = N_("export doses, lots and patients as FHIR bundles")


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
            N_("Your role does not allow you to %(action)s (allowed: %(roles)s)."),
            params={"action": action.value, "roles": roles},
            details={
                "action": action.value,
                "allowed_roles": sorted(r.value for r in PERMISSIONS[action]),
            },
        )
    return user
