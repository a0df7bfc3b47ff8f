"""JSON API of clinical use: patients (list/read contract of docs/architecture.md#list-and-read),
enrolment, weight verification, orders, allocation and issue, the bedside check, identity
signatures, infusion."""

import json
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from mfg.auth.permissions import Action
from mfg.clinical import bedside, infusions, orders, patients
from mfg.clinical.schemas import EnrolmentIn, InfusionIn, IssueIn
from mfg.errors import NotFound
from mfg.models import Allocation, BedsideCheck, Dose, DoseOrder, Infusion, Patient, User
from mfg.quantities import Number, WholeNumber
from mfg.signatures import service as signatures
from mfg.web.deps import Router, SessionDep
from mfg.web.security import Allow

router = Router(prefix="/api", tags=["clinical"])
Viewer = Annotated[User, Depends(Allow(Action.VIEW_CLINICAL))]
Clinician = Annotated[User, Depends(Allow(Action.BEDSIDE))]
Password = Field(min_length=1, max_length=1024)


class PatientPublic(BaseModel):
    identifier: str
    code: str
    status: str
    trial: str
    arm: str
    sex: str
    age: int
    weight_kg: float
    weight_verified: bool
    enrolled_on: date
    order_cells_per_infusion: int | None
    doses: list[str]


class PatientList(BaseModel):
    items: list[PatientPublic]
    total: int


def patient_public(session: Session, patient: Patient) -> PatientPublic:
    order = orders.order_of(session, patient)
    trial = patients.get_trial_of(session, patient)
    return PatientPublic(
        identifier=patient.code,
        code=patient.code,
        status=patient.status,
        trial=trial.code,
        arm=patients.arm_of(session, patient).name,
        sex=patient.sex,
        age=patient.age,
        weight_kg=patient.weight_kg,
        weight_verified=patient.weight_verified_at is not None,
        enrolled_on=patient.enrolled_on,
        order_cells_per_infusion=order.cells_per_infusion if order else None,
        doses=[
            session.get(Dose, a.dose_id).identifier for a in orders.allocations_of(session, patient)
        ],
    )


class ArmPublic(BaseModel):
    code: str
    name: str
    receives_product: bool


class CriterionPublic(BaseModel):
    kind: str = Field(description="inclusion or exclusion")
    text: str = Field(description="the key of the criterion's answer when enrolling")


class TrialPublic(BaseModel):
    identifier: str
    code: str
    title: str
    cells_per_kg: float
    max_infusions: int
    min_age: int
    max_age: int
    arms: list[ArmPublic]
    criteria: list[CriterionPublic]
    randomised: bool = Field(description="arms come from a concealed allocation list")


@router.get("/trials/{code}", response_model=TrialPublic)
def trial_read(code: str, actor: Viewer, session: SessionDep) -> TrialPublic:
    """The trial as installed: its arms, its criteria (each answered when enrolling), the
    prescription and the limit of infusions per patient."""
    trial = patients.get_trial(session, code)
    return TrialPublic(
        identifier=trial.code,
        code=trial.code,
        title=trial.title,
        cells_per_kg=trial.cells_per_kg,
        max_infusions=trial.max_infusions,
        min_age=trial.min_age,
        max_age=trial.max_age,
        arms=[
            ArmPublic(code=a.code, name=a.name, receives_product=a.receives_product)
            for a in patients.arms_of(session, trial)
        ],
        criteria=[
            CriterionPublic(kind="inclusion" if kind == "I" else "exclusion", text=text)
            for kind, text in patients.criteria_of(trial)
        ],
        randomised=patients.has_allocation_list(session, trial),
    )


@router.get("/patients", response_model=PatientList)
def patient_list(
    actor: Viewer,
    session: SessionDep,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PatientList:
    items, total = patients.list_patients(
        session, actor=actor, status=status, limit=limit, offset=offset
    )
    return PatientList(items=[patient_public(session, p) for p in items], total=total)


@router.get("/patients/{code}", response_model=PatientPublic)
def patient_read(code: str, actor: Viewer, session: SessionDep) -> PatientPublic:
    return patient_public(session, patients.get_patient(session, code))


@router.post("/patients", response_model=PatientPublic, status_code=201)
def patient_enrol(
    body: EnrolmentIn,
    actor: Annotated[User, Depends(Allow(Action.ENROL_PATIENTS))],
    session: SessionDep,
) -> PatientPublic:
    """Enrol a subject; refused, with each reason, when a criterion fails."""
    patient = patients.enrol_patient(
        session,
        actor=actor,
        trial=patients.get_trial(session, body.trial),
        command=body,
    )
    return patient_public(session, patient)


@router.post("/patients/{code}/weight-verification", response_model=PatientPublic)
def weight_verify(
    code: str, actor: Annotated[User, Depends(Allow(Action.VERIFY_WEIGHT))], session: SessionDep
) -> PatientPublic:
    patient = patients.verify_weight(
        session, actor=actor, patient=patients.get_patient(session, code)
    )
    return patient_public(session, patient)


class OrderIn(BaseModel):
    cells_per_kg: Number | None = Field(default=None, gt=0)
    infusions: WholeNumber = Field(default=1, ge=1, le=100)


class OrderPublic(BaseModel):
    id: int
    identifier: str = Field(description="the order's number, as text (the list contract)")
    patient: str
    cells_per_kg: float
    infusions: int
    infusions_given: int
    weight_kg: float
    cells_per_infusion: int
    status: str = Field(description="active, completed (every infusion given) or cancelled")
    ordered_by: str
    ordered_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    cancel_reason: str | None
    allocations: list[int]


class OrderList(BaseModel):
    items: list[OrderPublic]
    total: int


def _username(session: Session, user_id: int | None) -> str | None:
    return session.get(User, user_id).username if user_id else None


def order_public(session: Session, order: DoseOrder) -> OrderPublic:
    return OrderPublic(
        id=order.id,
        identifier=str(order.id),
        patient=session.get(Patient, order.patient_id).code,
        cells_per_kg=order.cells_per_kg,
        infusions=order.infusions,
        infusions_given=orders.infusions_of_order(session, order),
        weight_kg=order.weight_kg,
        cells_per_infusion=order.cells_per_infusion,
        status=order.status,
        ordered_by=_username(session, order.ordered_by_id),
        ordered_at=order.ordered_at,
        ended_at=order.ended_at,
        ended_by=_username(session, order.ended_by_id),
        cancel_reason=order.cancel_reason,
        allocations=[a.id for a in orders.allocations_of_order(session, order)],
    )


@router.get("/orders", response_model=OrderList)
def order_list(
    actor: Viewer,
    session: SessionDep,
    status: str | None = None,
    patient: str | None = Query(default=None, max_length=20, description="a patient code"),
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> OrderList:
    """Dose orders, newest first; ``?patient=PT…`` and ``?status=active|completed|cancelled``."""
    whose = patients.get_patient(session, patient) if patient else None
    items, total = orders.list_orders(
        session, actor=actor, status=status, patient=whose, limit=limit, offset=offset
    )
    return OrderList(items=[order_public(session, o) for o in items], total=total)


@router.get("/orders/{order_id}", response_model=OrderPublic)
def order_read(order_id: int, actor: Viewer, session: SessionDep) -> OrderPublic:
    return order_public(session, orders.get_order(session, order_id))


class CancellationIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    password: str = Password


@router.post("/orders/{order_id}/cancellation", response_model=OrderPublic)
def order_cancel(
    order_id: int,
    body: CancellationIn,
    actor: Annotated[User, Depends(Allow(Action.ORDER_DOSES))],
    session: SessionDep,
) -> OrderPublic:
    """Withdraw an active order, signed "Cancelled" with its reason; its doses not infused leave
    the patient (to stock, returned from the ward, or discarded once thawed)."""
    order = orders.cancel_order(
        session,
        actor=actor,
        order=orders.get_order(session, order_id),
        reason=body.reason,
        password=body.password,
    )
    return order_public(session, order)


@router.post("/patients/{code}/orders", response_model=OrderPublic, status_code=201)
def order_create(
    code: str,
    body: OrderIn,
    actor: Annotated[User, Depends(Allow(Action.ORDER_DOSES))],
    session: SessionDep,
) -> OrderPublic:
    patient = patients.get_patient(session, code)
    order = orders.create_order(
        session,
        actor=actor,
        patient=patient,
        cells_per_kg=body.cells_per_kg,
        infusions=body.infusions,
    )
    return order_public(session, order)


class AllocationPublic(BaseModel):
    id: int
    identifier: str
    status: str = Field(description="active, issued, infused or ended")
    order: int
    patient: str
    dose: str
    dose_status: str
    active: bool
    allocated_by: str
    allocated_at: datetime
    issued_at: datetime | None
    issued_by: str | None
    received_by: str | None
    transport_temp_c: float | None


class AllocationList(BaseModel):
    items: list[AllocationPublic]
    total: int


def allocation_public(session: Session, allocation: Allocation) -> AllocationPublic:
    dose = session.get(Dose, allocation.dose_id)
    if not allocation.active:
        status = "ended"
    elif dose.status == "infused":
        status = "infused"
    else:
        status = "issued" if allocation.issued_at else "active"
    return AllocationPublic(
        id=allocation.id,
        identifier=str(allocation.id),
        status=status,
        order=allocation.order_id,
        patient=session.get(Patient, allocation.patient_id).code,
        dose=dose.identifier,
        dose_status=dose.status,
        active=allocation.active,
        allocated_by=_username(session, allocation.allocated_by_id),
        allocated_at=allocation.allocated_at,
        issued_at=allocation.issued_at,
        issued_by=_username(session, allocation.issued_by_id),
        received_by=_username(session, allocation.received_by_id),
        transport_temp_c=allocation.transport_temp_c,
    )


@router.get("/allocations", response_model=AllocationList)
def allocations_list(
    actor: Viewer,
    session: SessionDep,
    patient: str | None = Query(default=None, max_length=20, description="a patient code"),
    order: int | None = Query(default=None, ge=1, le=2**31 - 1),
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AllocationList:
    """Doses set aside for patients, newest first; ``?patient=``, ``?order=``, ``?active=``."""
    items, total = orders.list_allocations(
        session,
        actor=actor,
        patient=patients.get_patient(session, patient) if patient else None,
        order=orders.get_order(session, order) if order else None,
        active=active,
        limit=limit,
        offset=offset,
    )
    return AllocationList(items=[allocation_public(session, a) for a in items], total=total)


@router.get("/allocations/{allocation_id}", response_model=AllocationPublic)
def allocation_read(allocation_id: int, actor: Viewer, session: SessionDep) -> AllocationPublic:
    return allocation_public(session, orders.get_allocation(session, allocation_id))


Lab = Annotated[User, Depends(Allow(Action.ALLOCATE_DOSES))]


@router.post("/orders/{order_id}/allocation", response_model=AllocationPublic, status_code=201)
def allocate(order_id: int, actor: Lab, session: SessionDep) -> AllocationPublic:
    """The first-expiring released dose that matches the prescription."""
    allocation = orders.allocate(session, actor=actor, order=orders.get_order(session, order_id))
    return allocation_public(session, allocation)


@router.post("/allocations/{allocation_id}/issue", response_model=AllocationPublic)
def issue(allocation_id: int, body: IssueIn, actor: Lab, session: SessionDep) -> AllocationPublic:
    allocation = orders.get_allocation(session, allocation_id)
    done = orders.issue(session, actor=actor, allocation=allocation, command=body)
    return allocation_public(session, done)


class CheckIn(BaseModel):
    wristband: str = Field(max_length=200)
    dose: str = Field(max_length=500)


class CheckResult(BaseModel):
    name: str
    ok: bool
    reason: str
    code: str = Field(description="the rule's stable code; ok when the check passed")


class CheckPublic(BaseModel):
    id: int
    identifier: str
    status: str = Field(description="passed or stopped")
    passed: bool
    patient: str | None
    dose: str | None
    wristband_scan: str
    dose_scan: str
    checked_by: str
    checked_at: datetime
    checks: list[CheckResult]
    verified_by: list[str]
    infusion: int | None


class CheckList(BaseModel):
    items: list[CheckPublic]
    total: int


def check_public(session: Session, record: BedsideCheck) -> CheckPublic:
    infusion = session.exec(select(Infusion.id).where(Infusion.bedside_check_id == record.id))
    return CheckPublic(
        id=record.id,
        identifier=str(record.id),
        status="passed" if record.passed else "stopped",
        passed=record.passed,
        patient=session.get(Patient, record.patient_id).code if record.patient_id else None,
        dose=session.get(Dose, record.dose_id).identifier if record.dose_id else None,
        wristband_scan=record.wristband_scan,
        dose_scan=record.dose_scan,
        checked_by=_username(session, record.checked_by_id),
        checked_at=record.checked_at,
        checks=[
            CheckResult(name=c.name, ok=c.ok, reason=c.reason, code=c.code)
            for c in bedside.checks_of(record)
        ],
        verified_by=[s.username for s in bedside.identity_signatures(session, record)],
        infusion=infusion.first(),
    )


@router.get("/bedside/checks", response_model=CheckList)
def bedside_check_list(
    actor: Viewer,
    session: SessionDep,
    patient: str | None = Query(default=None, max_length=20, description="a patient code"),
    passed: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CheckList:
    """Every bedside check attempt, newest first, matched or not; ``?patient=``, ``?passed=``."""
    items, total = bedside.list_checks(
        session,
        actor=actor,
        patient=patients.get_patient(session, patient) if patient else None,
        passed=passed,
        limit=limit,
        offset=offset,
    )
    return CheckList(items=[check_public(session, c) for c in items], total=total)


@router.get("/bedside/checks/{check_id}", response_model=CheckPublic)
def bedside_check_read(check_id: int, actor: Viewer, session: SessionDep) -> CheckPublic:
    return check_public(session, bedside.get_check(session, check_id))


@router.post("/bedside/checks", response_model=CheckPublic, status_code=201)
def bedside_check(body: CheckIn, actor: Clinician, session: SessionDep) -> CheckPublic:
    """Scan the wristband and the dose: every check with its reason; recorded pass or fail."""
    record = bedside.check_at_bedside(
        session, actor=actor, wristband=body.wristband, dose_scan=body.dose
    )
    return check_public(session, record)


class VerificationIn(BaseModel):
    username: str = Field(max_length=64, description="the signing clinician")
    password: str = Password


@router.post("/bedside/checks/{check_id}/verifications", response_model=CheckPublic)
def bedside_verify(
    check_id: int, body: VerificationIn, actor: Clinician, session: SessionDep
) -> CheckPublic:
    record = bedside.get_check(session, check_id)
    signer = session.exec(select(User).where(User.username == body.username.lower())).first()
    if signer is None:
        raise NotFound("No user %(username)s.", params={"username": body.username})
    bedside.verify_identity(
        session, actor=actor, record=record, signer=signer, password=body.password
    )
    return check_public(session, record)


class InfusionPublic(BaseModel):
    id: int
    identifier: str
    status: str = "infused"
    patient: str
    dose: str
    bedside_check: int
    started_at: datetime
    stopped_at: datetime
    volume_ml: float
    complete: bool
    route: str
    bag_inspected: bool
    vitals: dict
    reactions: str
    recorded_by: str
    recorded_at: datetime
    signature_valid: bool = Field(description='the "Administered" signature matches the record')


class InfusionList(BaseModel):
    items: list[InfusionPublic]
    total: int


def infusion_public(session: Session, infusion: Infusion) -> InfusionPublic:
    return InfusionPublic(
        id=infusion.id,
        identifier=str(infusion.id),
        patient=session.get(Patient, infusion.patient_id).code,
        dose=session.get(Dose, infusion.dose_id).identifier,
        bedside_check=infusion.bedside_check_id,
        started_at=infusion.started_at,
        stopped_at=infusion.stopped_at,
        volume_ml=infusion.volume_ml,
        complete=infusion.complete,
        route=infusion.route,
        bag_inspected=infusion.bag_inspected,
        vitals=json.loads(infusion.vitals),
        reactions=infusion.reactions,
        recorded_by=_username(session, infusion.recorded_by_id),
        recorded_at=infusion.recorded_at,
        signature_valid=signatures.signed_and_matching(
            session, entity_type="infusion", entity_id=infusion.id
        ),
    )


@router.get("/infusions", response_model=InfusionList)
def infusion_list(
    actor: Viewer,
    session: SessionDep,
    patient: str | None = Query(default=None, max_length=20, description="a patient code"),
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> InfusionList:
    """Infusions given, newest first; ``?patient=PT…``."""
    items, total = infusions.list_infusions(
        session,
        actor=actor,
        patient=patients.get_patient(session, patient) if patient else None,
        limit=limit,
        offset=offset,
    )
    return InfusionList(items=[infusion_public(session, i) for i in items], total=total)


@router.get("/infusions/{infusion_id}", response_model=InfusionPublic)
def infusion_read(infusion_id: int, actor: Viewer, session: SessionDep) -> InfusionPublic:
    return infusion_public(session, infusions.get_infusion(session, infusion_id))


@router.post("/bedside/checks/{check_id}/infusion", response_model=InfusionPublic, status_code=201)
def bedside_infusion(
    check_id: int, body: InfusionIn, actor: Clinician, session: SessionDep
) -> InfusionPublic:
    infusion = infusions.record_infusion(
        session, actor=actor, record=bedside.get_check(session, check_id), command=body
    )
    return infusion_public(session, infusion)


class AllocationListIn(BaseModel):
    arms: list[str] = Field(min_length=1, max_length=10_000, description="arm codes, in order")


class AllocationListPublic(BaseModel):
    trial: str
    loaded: int
    remaining: int


@router.post("/trials/{code}/allocation-list", response_model=AllocationListPublic, status_code=201)
def allocation_list(
    code: str,
    body: AllocationListIn,
    actor: Annotated[User, Depends(Allow(Action.MANAGE_TRIALS))],
    session: SessionDep,
) -> AllocationListPublic:
    """Load a concealed allocation list (randomised trials): only counts are ever returned."""
    trial = patients.get_trial(session, code)
    loaded = patients.load_allocation_list(session, actor=actor, trial=trial, arm_codes=body.arms)
    return AllocationListPublic(
        trial=trial.code, loaded=loaded, remaining=patients.remaining_slots(session, trial)
    )
