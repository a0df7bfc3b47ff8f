"""JSON API of QC: specifications, samples (the `qc-samples` list/read contract of
docs/architecture.md#list-and-read), results with verification, deviations, and a lot's QC
summary."""

from typing import Annotated

from fastapi import Depends, Query
from sqlmodel import Session

from mfg.auth.permissions import Action
from mfg.deviations import service as deviations
from mfg.deviations.schemas import DeviationIn
from mfg.manufacturing.pools import get_lot
from mfg.models import Deviation, Lot, QcResult, QcSample, SpecVersion, User
from mfg.qc import results, samples, specs
from mfg.qc.schemas import (
    DeviationList,
    DeviationPublic,
    InvestigationIn,
    LotQcPublic,
    PasswordIn,
    ReasonIn,
    ResultIn,
    ResultPublic,
    SampleIn,
    SampleList,
    SamplePublic,
    SpecDraftIn,
    SpecList,
    SpecPublic,
    SpecTestPublic,
    TestStandingPublic,
)
from mfg.qc.summary import lot_qc
from mfg.web.deps import Router, SessionDep
from mfg.web.security import Allow

router = Router(prefix="/api", tags=["qc"])
Viewer = Annotated[User, Depends(Allow(Action.VIEW_QC))]
Manager = Annotated[User, Depends(Allow(Action.MANAGE_SPECIFICATIONS))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


def spec_public(session: Session, spec: SpecVersion) -> SpecPublic:
    return SpecPublic(
        identifier=str(spec.version),
        version=spec.version,
        status=spec.status,
        title=spec.title,
        note=spec.note,
        approved_at=spec.approved_at,
        tests=[SpecTestPublic(**specs.as_dict(t)) for t in specs.tests_of(session, spec)],
    )


@router.get("/specifications", response_model=SpecList)
def spec_list(actor: Viewer, session: SessionDep) -> SpecList:
    items = specs.list_specs(session, actor=actor)
    return SpecList(items=[spec_public(session, s) for s in items], total=len(items))


@router.get("/specifications/{version}", response_model=SpecPublic)
def spec_read(version: int, actor: Viewer, session: SessionDep) -> SpecPublic:
    return spec_public(session, specs.get_spec(session, version))


@router.post("/specifications", response_model=SpecPublic, status_code=201)
def spec_draft(body: SpecDraftIn, actor: Manager, session: SessionDep) -> SpecPublic:
    """A new version in draft; it takes effect only when QA approves it."""
    spec = specs.create_draft(
        session,
        actor=actor,
        title=body.title,
        note=body.note,
        tests=[t.model_dump() for t in body.tests],
    )
    return spec_public(session, spec)


@router.post("/specifications/{version}/approve", response_model=SpecPublic)
def spec_approve(version: int, body: PasswordIn, actor: Manager, session: SessionDep) -> SpecPublic:
    spec = specs.approve(
        session, actor=actor, spec=specs.get_spec(session, version), password=body.password
    )
    return spec_public(session, spec)


@router.post("/specifications/{version}/withdraw", response_model=SpecPublic)
def spec_withdraw(version: int, body: ReasonIn, actor: Manager, session: SessionDep) -> SpecPublic:
    spec = specs.withdraw(
        session, actor=actor, spec=specs.get_spec(session, version), reason=body.reason
    )
    return spec_public(session, spec)


def _name(session: Session, user_id: int | None) -> str | None:
    return session.get(User, user_id).username if user_id else None


def result_public(session: Session, result: QcResult, sample: QcSample) -> ResultPublic:
    return ResultPublic(
        id=result.id,
        sample=sample.code,
        test_code=result.test_code,
        reading=result.reading,
        value=results.shown_value(result),
        entered_value=result.entered_value,
        computation=result.computation,
        unit=result.unit,
        method=result.method,
        instrument=result.instrument,
        tested_at=result.tested_at,
        verdict=result.verdict,
        limit=result.limit_text,
        status=result.status,
        entered_by=_name(session, result.entered_by_id),
        verified_by=_name(session, result.verified_by_id),
        invalidation_reason=result.invalidation_reason,
    )


def sample_public(session: Session, sample: QcSample) -> SamplePublic:
    return SamplePublic(
        identifier=sample.code,
        code=sample.code,
        status=sample.status,
        source_type=sample.source_type,
        source=sample.source_identifier,
        spec_version=session.get(SpecVersion, sample.spec_version_id).version,
        tests=samples.requested_tests(sample),
        taken_at=sample.taken_at,
        results=[result_public(session, r, sample) for r in results.results_of(session, sample)],
    )


@router.get("/qc-samples", response_model=SampleList)
def sample_list(
    actor: Viewer,
    session: SessionDep,
    status: str | None = None,
    lot: Annotated[str | None, Query(max_length=13, description="a lot's DIN")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> SampleList:
    items, total = samples.list_samples(
        session,
        actor=actor,
        status=status,
        lot=get_lot(session, lot) if lot else None,
        limit=limit,
        offset=offset,
    )
    return SampleList(items=[sample_public(session, s) for s in items], total=total)


@router.get("/qc-samples/{code}", response_model=SamplePublic)
def sample_read(code: str, actor: Viewer, session: SessionDep) -> SamplePublic:
    return sample_public(session, samples.get_sample(session, code))


@router.post("/qc-samples", response_model=SamplePublic, status_code=201)
def sample_take(
    body: SampleIn,
    actor: Annotated[User, Depends(Allow(Action.TAKE_SAMPLES))],
    session: SessionDep,
) -> SamplePublic:
    sample = samples.take_sample(
        session, actor=actor, source=body.source, tests=body.tests, taken_at=body.taken_at
    )
    return sample_public(session, sample)


@router.post("/qc-samples/{code}/results", response_model=ResultPublic, status_code=201)
def result_enter(
    code: str,
    body: ResultIn,
    actor: Annotated[User, Depends(Allow(Action.ENTER_QC_RESULTS))],
    session: SessionDep,
) -> ResultPublic:
    sample = samples.get_sample(session, code)
    result = results.enter_result(session, actor=actor, sample=sample, command=body)
    return result_public(session, result, sample)


@router.post("/qc-results/{result_id}/verify", response_model=ResultPublic)
def result_verify(
    result_id: int,
    actor: Annotated[User, Depends(Allow(Action.VERIFY_QC_RESULTS))],
    session: SessionDep,
) -> ResultPublic:
    result = results.verify_result(
        session, actor=actor, result=results.get_result(session, result_id)
    )
    return result_public(session, result, session.get(QcSample, result.sample_id))


@router.post("/qc-results/{result_id}/invalidate", response_model=ResultPublic)
def result_invalidate(
    result_id: int,
    body: ReasonIn,
    actor: Annotated[User, Depends(Allow(Action.INVALIDATE_QC_RESULTS))],
    session: SessionDep,
) -> ResultPublic:
    result = results.invalidate_result(
        session, actor=actor, result=results.get_result(session, result_id), reason=body.reason
    )
    return result_public(session, result, session.get(QcSample, result.sample_id))


def deviation_public(session: Session, deviation: Deviation) -> DeviationPublic:
    lot = session.get(Lot, deviation.lot_id) if deviation.lot_id else None
    return DeviationPublic(
        identifier=deviation.code,
        code=deviation.code,
        status=deviation.status,
        title=deviation.title,
        description=deviation.description,
        about=f"{deviation.entity_type} {deviation.entity_id}",
        lot=lot.din if lot else None,
        impact_assessment=deviation.impact_assessment,
        root_cause=deviation.root_cause,
        corrective_action=deviation.corrective_action,
        opened_at=deviation.opened_at,
        closed_at=deviation.closed_at,
    )


@router.get("/deviations", response_model=DeviationList)
def deviation_list(
    actor: Viewer,
    session: SessionDep,
    status: str | None = None,
    lot: Annotated[str | None, Query(max_length=13)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> DeviationList:
    items, total = deviations.list_deviations(
        session,
        actor=actor,
        status=status,
        lot=get_lot(session, lot) if lot else None,
        limit=limit,
        offset=offset,
    )
    return DeviationList(items=[deviation_public(session, d) for d in items], total=total)


@router.get("/deviations/{code}", response_model=DeviationPublic)
def deviation_read(code: str, actor: Viewer, session: SessionDep) -> DeviationPublic:
    return deviation_public(session, deviations.get_deviation(session, code))


Opener = Annotated[User, Depends(Allow(Action.OPEN_DEVIATIONS))]


@router.post("/deviations", response_model=DeviationPublic, status_code=201)
def deviation_open(body: DeviationIn, actor: Opener, session: SessionDep) -> DeviationPublic:
    lot = get_lot(session, body.lot) if body.lot else None
    deviation = deviations.open_deviation(session, actor=actor, command=body, lot=lot)
    return deviation_public(session, deviation)


@router.post("/deviations/{code}/investigation", response_model=DeviationPublic)
def deviation_investigate(
    code: str, body: InvestigationIn, actor: Opener, session: SessionDep
) -> DeviationPublic:
    deviation = deviations.investigate(
        session, actor=actor, deviation=deviations.get_deviation(session, code), **body.model_dump()
    )
    return deviation_public(session, deviation)


@router.post("/deviations/{code}/close", response_model=DeviationPublic)
def deviation_close(
    code: str,
    body: PasswordIn,
    actor: Annotated[User, Depends(Allow(Action.CLOSE_DEVIATIONS))],
    session: SessionDep,
) -> DeviationPublic:
    deviation = deviations.close(
        session,
        actor=actor,
        deviation=deviations.get_deviation(session, code),
        password=body.password,
    )
    return deviation_public(session, deviation)


@router.get("/lots/{din}/qc", response_model=LotQcPublic)
def lot_qc_read(din: str, actor: Viewer, session: SessionDep) -> LotQcPublic:
    """The lot's QC against the specification version recorded on it."""
    lot = get_lot(session, din)
    summary = lot_qc(session, lot)
    return LotQcPublic(
        lot=lot.din,
        spec_version=summary.spec.version,
        tests=[
            TestStandingPublic(
                code=row.test.code,
                name=row.test.name,
                stage=row.test.stage,
                required=row.test.required,
                limit=row.limit,
                state=row.state,
                value=results.shown_value(row.result) if row.result else None,
                sample=row.sample_code,
                preliminary=[f"{p.reading}: {results.shown_value(p)}" for p in row.preliminary],
            )
            for row in summary.rows
        ],
        blocking=[row.test.code for row in summary.blocking()],
        open_deviations=[d.code for d in deviations.open_deviations_of_lot(session, lot)],
    )
